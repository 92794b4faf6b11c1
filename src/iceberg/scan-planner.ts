import { parsingFile } from '../util/corrupt-file.js'
import type { Expression } from './expression.js'
import {
  compileManifestBoundsFilter,
  compilePartitionFilter,
  type FilePredicate,
  type ManifestSelection,
  manifestMightMatch,
} from './file-pruning.js'
import { compareIcebergValues } from './iceberg-value.js'
import type { ManifestFile, ResolvedEntry } from './manifest.js'
import { type ManifestCache, sharedManifestCache } from './manifest-cache.js'
import { readManifest, readManifestList } from './manifest-io.js'
import { ManifestView } from './manifest-view.js'
import type { Schema } from './schema.js'
import type { LoadedTable } from './table-loader.js'
import { currentSchema, type Snapshot, snapshotById, specById } from './table-metadata.js'

/**
 * One data file to read, with the delete files that apply to it.
 */
export interface FileScanTask {
  readonly dataFile: ResolvedEntry
  readonly deletes: readonly ResolvedEntry[]
}

/**
 * The plan of a scan: the snapshot, the schema to read with, and the live data files (after pruning) with their
 * delete files. Plain data.
 */
export interface ScanPlan {
  readonly snapshotId: bigint | null
  readonly schema: Schema
  readonly tasks: readonly FileScanTask[]
  /** Live data files before pruning (the files of manifests skipped by their partition summaries included). */
  readonly totalDataFiles: number
}

/**
 * Options of {@link planScan}.
 */
export interface ScanOptions {
  /** Time travel: the snapshot to read (default: current). */
  readonly snapshotId?: bigint | string | null
  /** Prune files that cannot match this filter (rows are not filtered). */
  readonly filter?: Expression
  /** Read with this schema (default: the snapshot's schema when travelling in time, else the current schema). */
  readonly schema?: Schema
  /**
   * Where decoded manifest lists and manifests are kept between plans (default: the process-wide
   * {@link sharedManifestCache}; null reads and decodes every file again).
   */
  readonly cache?: ManifestCache | null
}

/**
 * The manifests of a snapshot (from its manifest list, or inline v1 manifests).
 */
export async function snapshotManifests(
  table: LoadedTable,
  snapshot: Snapshot,
  cache: ManifestCache | null = null,
): Promise<ManifestFile[]> {
  const list = snapshot['manifest-list']
  if (list) {
    const decode = async (): Promise<ManifestFile[]> => {
      const bytes = await table.io.read(list)
      return parsingFile(list, 'manifest list', () => readManifestList(bytes))
    }
    if (cache === null) return decode()
    const cached = await cache.get(
      `list|${table.io.resolve(list)}`,
      (v: readonly ManifestFile[]) => v.length,
      decode,
    )
    return [...cached]
  }
  return (snapshot.manifests ?? []).map((p) => ({
    manifestPath: p,
    manifestLength: 0,
    partitionSpecId: 0,
    content: 0,
    sequenceNumber: 0,
    minSequenceNumber: 0,
    addedSnapshotId: snapshot['snapshot-id'],
    addedFilesCount: 0,
    existingFilesCount: 0,
    deletedFilesCount: 0,
    addedRowsCount: 0,
    existingRowsCount: 0,
    deletedRowsCount: 0,
  }))
}

/**
 * Reads the entries of one manifest and applies inheritance: an ADDED entry without sequence numbers or snapshot id
 * takes them from the manifest list entry; v1 tables have sequence number 0.
 */
export async function manifestEntries(
  table: LoadedTable,
  m: ManifestFile,
  cache: ManifestCache | null = null,
): Promise<ResolvedEntry[]> {
  return [...(await manifestView(table, m, cache)).entries]
}

/** The entries of a manifest with their column statistics, from the cache when given (shared: never mutate). */
async function manifestView(
  table: LoadedTable,
  m: ManifestFile,
  cache: ManifestCache | null,
): Promise<ManifestView> {
  if (cache === null) return new ManifestView(await decodeEntries(table, m))
  // Inheritance makes the entries depend on the manifest-list row as well as on the file.
  const key = [
    'manifest',
    table.io.resolve(m.manifestPath),
    m.manifestLength,
    m.partitionSpecId,
    m.sequenceNumber,
    m.addedSnapshotId,
  ].join('|')
  return cache.get(
    key,
    (v: ManifestView) => v.entries.length,
    async () => new ManifestView(await decodeEntries(table, m)),
  )
}

async function decodeEntries(table: LoadedTable, m: ManifestFile): Promise<ResolvedEntry[]> {
  const spec = table.metadata['partition-specs'].find((s) => s['spec-id'] === m.partitionSpecId)
  const bytes = await table.io.read(m.manifestPath)
  const { entries } = parsingFile(m.manifestPath, 'manifest', () => readManifest(bytes, spec))
  return entries.map((e) => {
    const inherit = e.status === 1 ? m.sequenceNumber : 0
    return {
      status: e.status,
      snapshotId: e.snapshotId ?? m.addedSnapshotId,
      sequenceNumber: e.sequenceNumber ?? inherit,
      fileSequenceNumber: e.fileSequenceNumber ?? e.sequenceNumber ?? inherit,
      dataFile: e.dataFile,
      specId: m.partitionSpecId,
    }
  })
}

/**
 * Every live (not DELETED) entry of a snapshot, data and delete files alike (its manifests through the shared
 * manifest cache: the commit that follows reads the same ones).
 */
export async function liveEntries(table: LoadedTable, snapshot: Snapshot): Promise<ResolvedEntry[]> {
  // a manifest with only DELETED entries (what an overwrite removed) has no live entry to read
  const manifests = (await snapshotManifests(table, snapshot, sharedManifestCache)).filter(
    (m) => !(m.addedFilesCount === 0 && m.existingFilesCount === 0 && m.deletedFilesCount > 0),
  )
  const all = await Promise.all(manifests.map((m) => manifestEntries(table, m, sharedManifestCache)))
  return all.flat().filter((e) => e.status !== 2)
}

function samePartition(a: ResolvedEntry, b: ResolvedEntry): boolean {
  if (a.specId !== b.specId) return true
  for (const [k, v] of a.dataFile.partition) {
    const w = b.dataFile.partition.get(k) ?? null
    if (v === null || w === null) {
      if (v !== w) return false
    } else if (compareIcebergValues(v, w) !== 0) return false
  }
  return true
}

/**
 * Plans a scan of a snapshot: the live data files pruned by partition values and column bounds for `filter`, each
 * with the delete files that apply (position deletes with a data sequence number ≥ the file's; equality deletes with
 * a strictly greater one, in the same partition or unpartitioned).
 */
export async function planScan(table: LoadedTable, opts: ScanOptions = {}): Promise<ScanPlan> {
  const m = table.metadata
  const snapshot = snapshotById(m, opts.snapshotId)
  const travelling =
    opts.snapshotId !== undefined && opts.snapshotId !== null && snapshot?.['schema-id'] !== undefined
  const schema = opts.schema ?? currentSchema(m, travelling ? snapshot?.['schema-id'] : undefined)
  if (!snapshot) return { snapshotId: null, schema, tasks: [], totalDataFiles: 0 }
  const cache = opts.cache === undefined ? sharedManifestCache : opts.cache
  const filter = opts.filter
  const specs = new Map(m['partition-specs'].map((s) => [s['spec-id'], s]))
  // Data manifests whose partition summaries rule the filter out are never read; their live files still count.
  let prunedFiles = 0
  const manifests = (await snapshotManifests(table, snapshot, cache)).filter((mf) => {
    if (!filter || mf.content !== 0) return true
    const spec = specs.get(mf.partitionSpecId)
    if (!spec || manifestMightMatch(mf, spec, schema, filter)) return true
    prunedFiles += mf.addedFilesCount + mf.existingFilesCount
    return false
  })
  const views = await Promise.all(manifests.map((mf) => manifestView(table, mf, cache)))
  // Compiled once per plan: columns, literals and transforms are resolved before the first file.
  const selectByBounds = filter ? compileManifestBoundsFilter(schema, filter) : undefined
  const partitionTests = new Map<number, FilePredicate>()
  const partitionTest = (specId: number): FilePredicate | undefined => {
    if (!filter) return undefined
    let p = partitionTests.get(specId)
    if (!p) {
      p = compilePartitionFilter(specs.get(specId) ?? specById(m), schema, filter)
      partitionTests.set(specId, p)
    }
    return p
  }
  let totalData = 0
  const kept: ResolvedEntry[] = []
  const posDeletes: ResolvedEntry[] = []
  const eqDeletes: ResolvedEntry[] = []
  for (const view of views) {
    let selected: ManifestSelection = true
    if (selectByBounds && !view.hasDeletes) {
      selected = selectByBounds(view)
      if (selected === false) {
        // The bounds of the whole manifest rule the filter out: none of its files is looked at.
        totalData += view.liveDataFiles
        continue
      }
    }
    const entries = view.entries
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as ResolvedEntry
      if (e.status === 2) continue
      const content = e.dataFile.content
      if (content === 0) {
        totalData++
        if (!filter) {
          kept.push(e)
          continue
        }
        if (selected !== true && !selected(i)) continue
        if (partitionTest(e.specId)?.(e.dataFile) === false) continue
        kept.push(e)
      } else if (content === 1) posDeletes.push(e)
      else if (content === 2) eqDeletes.push(e)
    }
  }
  const noDeletes = posDeletes.length === 0 && eqDeletes.length === 0
  const tasks = kept.map((d): FileScanTask => {
    if (noDeletes) return { dataFile: d, deletes: NO_DELETES }
    const deletes = [
      ...posDeletes.filter(
        (p) =>
          p.sequenceNumber >= d.sequenceNumber &&
          (p.dataFile.referencedDataFile === undefined ||
            p.dataFile.referencedDataFile === d.dataFile.filePath) &&
          samePartition(p, d),
      ),
      ...eqDeletes.filter((q) => {
        if (q.sequenceNumber <= d.sequenceNumber) return false
        const qSpec = specs.get(q.specId)
        return !qSpec || qSpec.fields.length === 0 || samePartition(q, d)
      }),
    ]
    return { dataFile: d, deletes }
  })
  return { snapshotId: snapshot['snapshot-id'], schema, tasks, totalDataFiles: totalData + prunedFiles }
}

const NO_DELETES: readonly ResolvedEntry[] = Object.freeze([])
