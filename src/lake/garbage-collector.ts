import { walkHistory } from '../catalog/ancestry.js'
import type { Catalog } from '../catalog/catalog.js'
import { asTableState } from '../catalog/entries.js'
import type { Commit } from '../catalog/types.js'
import { manifestEntries, snapshotManifests } from '../iceberg/scan-planner.js'
import { loadTable } from '../iceberg/table-loader.js'
import type { ObjectStore } from '../storage/object-store.js'
import type { Clock } from '../util/clock.js'
import { TarnError } from '../util/errors.js'

/**
 * Prefix of warehouse keys that belong to tarn itself (never swept by table GC).
 */
export const RESERVED_PREFIX = '_tarn/'

/**
 * Options of {@link collectGarbage}.
 *
 * @example
 * ```ts
 * await lake.gc({ olderThanMs: parseDuration('7d'), graceMs: parseDuration('1h'), dryRun: true })
 * ```
 */
export interface GcOptions {
  /** Retention: commits older than this (that are not a ref head) no longer protect their files. */
  readonly olderThanMs: number
  /** Files younger than this are never deleted (protects writes still in flight). Default one hour. */
  readonly graceMs?: number
  readonly dryRun?: boolean
  /** Called with progress lines. */
  readonly onProgress?: (line: string) => void
}

/**
 * What a garbage collection found and did. Plain data.
 *
 * @example
 * ```ts
 * const r: GcReport = await lake.gc({ olderThanMs: 0 }); console.log(r.deleted, r.bytesDeleted)
 * ```
 */
export interface GcReport {
  readonly dryRun: boolean
  readonly retentionCutoff: string
  readonly graceCutoff: string
  readonly refs: number
  readonly commits: number
  readonly metadataFiles: number
  readonly reachableFiles: number
  readonly scannedFiles: number
  /** Unreachable files old enough to delete (deleted unless dry run). */
  readonly deleted: number
  readonly bytesDeleted: number
  /** Unreachable files kept because they are younger than the grace period. */
  readonly keptYoung: number
  /** Up to 100 deleted (or, on a dry run, deletable) keys. */
  readonly sample: readonly string[]
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i

/**
 * Parses a duration such as `7d`, `12h`, `30m`, `45s` or `0` into milliseconds.
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(text.trim())
  if (!m)
    throw new TarnError(
      'INVALID_ARGUMENT',
      `invalid duration ${JSON.stringify(text)}: use e.g. 7d, 12h, 30m, 45s`,
      { duration: text },
    )
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] ?? 's'] ?? 1000
  return Number(m[1]) * unit
}

/**
 * Deletes warehouse files that no commit of any ref within the retention window can reach. Mark: every branch and
 * tag head, and every ancestor younger than the retention cutoff; from their lake states every table metadata file,
 * the metadata files its log names, every snapshot's manifest list, manifests, data and delete files. Sweep: every
 * warehouse object outside the marked set and older than the grace period (files of foreign tables outside the
 * warehouse and tarn's own `_tarn/` objects are never touched).
 */
export async function collectGarbage(
  catalog: Catalog,
  store: ObjectStore,
  clock: Clock,
  options: GcOptions,
): Promise<GcReport> {
  const now = clock.now()
  const retentionCutoff = now - options.olderThanMs
  const graceCutoff = now - (options.graceMs ?? 3_600_000)
  const progress = options.onProgress ?? (() => undefined)
  const refs = [...(await catalog.listBranches()), ...(await catalog.listTags())]
  const heads = await catalog.getCommits(refs.map((r) => r.head))
  // Commit timestamps never decrease from parent to child, so the walk stops at the first commit older than the
  // cutoff on every path instead of reading the whole history.
  const load = async (hashes: readonly string[]): Promise<Commit[]> =>
    (await catalog.getCommits(hashes)).filter((c) => c.timestamp >= retentionCutoff)
  const commits = await walkHistory(load, heads, Number.POSITIVE_INFINITY, () => true)
  progress(`gc: ${refs.length} refs, ${commits.length} commits within retention`)

  // The union of the states of all marked commits: full states where the marked set begins, plus what every marked
  // commit changed (O(changes) each, not O(tables)).
  const metadataLocations = new Set<string>()
  const marked = new Set(commits.map((c) => c.hash))
  for (const c of commits) {
    if (c.parents.length === 0 || c.parents.some((p) => !marked.has(p))) {
      for (const t of Object.values((await catalog.stateOf(c)).tables))
        metadataLocations.add(t.metadataLocation)
    }
    for (const d of await catalog.changesOf(c)) {
      if (d.key.startsWith('t/') && d.after !== undefined)
        metadataLocations.add(asTableState(d.after).metadataLocation)
    }
  }
  progress(`gc: ${metadataLocations.size} table metadata files to trace`)

  const reachable = new Set<string>()
  const mark = (uri: string): void => {
    const key = store.keyOf(uri)
    if (key !== undefined && !ABSOLUTE.test(key)) reachable.add(key)
  }
  const seenManifests = new Set<string>()
  for (const location of metadataLocations) {
    mark(location)
    const table = await loadTable(store, location)
    for (const entry of table.metadata['metadata-log']) mark(table.io.resolve(entry['metadata-file']))
    for (const snapshot of table.metadata.snapshots) {
      if (snapshot['manifest-list']) mark(table.io.resolve(snapshot['manifest-list']))
      for (const manifest of await snapshotManifests(table, snapshot)) {
        const path = table.io.resolve(manifest.manifestPath)
        mark(path)
        if (seenManifests.has(path)) continue
        seenManifests.add(path)
        for (const e of await manifestEntries(table, manifest)) mark(table.io.resolve(e.dataFile.filePath))
      }
    }
  }
  progress(`gc: ${reachable.size} reachable files`)

  let scanned = 0
  let deleted = 0
  let bytesDeleted = 0
  let keptYoung = 0
  const sample: string[] = []
  for await (const info of store.list('')) {
    scanned++
    if (reachable.has(info.key) || info.key.startsWith(RESERVED_PREFIX)) continue
    if (info.lastModified > graceCutoff) {
      keptYoung++
      continue
    }
    if (!options.dryRun) await store.delete(info.key)
    deleted++
    bytesDeleted += info.size
    if (sample.length < 100) sample.push(info.key)
  }
  progress(`gc: ${options.dryRun ? 'would delete' : 'deleted'} ${deleted} files (${bytesDeleted} bytes)`)
  return {
    dryRun: options.dryRun ?? false,
    retentionCutoff: new Date(retentionCutoff).toISOString(),
    graceCutoff: new Date(graceCutoff).toISOString(),
    refs: refs.length,
    commits: commits.length,
    metadataFiles: metadataLocations.size,
    reachableFiles: reachable.size,
    scannedFiles: scanned,
    deleted,
    bytesDeleted,
    keptYoung,
    sample,
  }
}
