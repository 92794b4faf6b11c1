import type { ObjectStore } from '../../storage/object-store.js'
import { putFresh } from '../../storage/put-fresh.js'
import type { Clock } from '../../util/clock.js'
import { TarnError } from '../../util/errors.js'
import type { Random } from '../../util/random.js'
import { partitionType } from '../avro/manifest-avro-schemas.js'
import { compareIcebergValues, type IcebergValue } from '../iceberg-value.js'
import type { DataFile, FieldSummary, ManifestEntry, ManifestFile, ResolvedEntry } from '../manifest.js'
import { sharedManifestCache } from '../manifest-cache.js'
import { writeManifest, writeManifestList } from '../manifest-io.js'
import type { MetadataCache } from '../metadata-cache.js'
import { nextMetadataLog } from '../metadata-log.js'
import type { PartitionSpec } from '../partition-spec.js'
import { manifestEntries, snapshotManifests } from '../scan-planner.js'
import type { Schema } from '../schema.js'
import { encodeSingleValue } from '../single-value.js'
import type { LoadedTable } from '../table-loader.js'
import {
  currentSchema,
  type Snapshot,
  serializeTableMetadata,
  type TableMetadata,
} from '../table-metadata.js'

/**
 * The state of a table as the catalog records it (snapshot id as a decimal string).
 */
export interface IcebergTableState {
  readonly metadataLocation: string
  readonly snapshotId: string | null
  readonly schemaId: number
  readonly tableUuid: string
}

/**
 * What every writer returns: the new metadata, where it was written, and the catalog state.
 */
export interface CommitResult {
  readonly metadata: TableMetadata
  readonly metadataLocation: string
  readonly snapshotId: string | null
  readonly state: IcebergTableState
}

/**
 * Injected dependencies of writers.
 */
export interface WriterDeps {
  readonly clock: Clock
  readonly random: Random
  /** The lake's parsed metadata files: a written file is kept there, so the next commit need not read it back. */
  readonly metadataCache?: MetadataCache
}

/**
 * The catalog state of a metadata file.
 */
export function stateOf(metadata: TableMetadata, metadataLocation: string): IcebergTableState {
  return {
    metadataLocation,
    snapshotId: metadata['current-snapshot-id'] === null ? null : metadata['current-snapshot-id'].toString(),
    schemaId: metadata['current-schema-id'],
    tableUuid: metadata['table-uuid'],
  }
}

/**
 * A fresh positive snapshot id below 2^53 (safe for JS clients).
 */
export function newSnapshotId(random: Random): bigint {
  const b = random.bytes(7)
  let v = 0n
  for (const x of b) v = (v << 8n) | BigInt(x)
  v &= (1n << 53n) - 1n
  return v === 0n ? 1n : v
}

/**
 * The store key of a URI in the store, or throws.
 */
export function keyOfUri(store: ObjectStore, uri: string): string {
  const key = store.keyOf(uri)
  if (key === undefined)
    throw new TarnError('STORAGE_ERROR', `${uri} lies outside the warehouse ${store.root}`, { uri })
  return key
}

function nextMetadataVersion(previous: string | undefined): number {
  if (!previous) return 1
  const name = previous.slice(previous.lastIndexOf('/') + 1)
  const m = /^(?:v)?(\d+)[-.]/.exec(name)
  return m ? Number(m[1]) + 1 : 1
}

/**
 * Writes a metadata file next to the table's other metadata (`<root>/metadata/NNNNN-<uuid>.metadata.json`, never
 * overwriting) as compact JSON and returns the commit result. The files it refers to that are new (`alongside`: a
 * snapshot's manifests and manifest list) are stored with it, under fresh names, and made durable together (their
 * directory fsyncs shared on a local warehouse). The metadata is kept in `deps.metadataCache`, so the next commit on
 * the table starts from it without reading the file back.
 */
export async function writeMetadataFile(
  store: ObjectStore,
  rootKey: string,
  metadata: TableMetadata,
  previousLocation: string | undefined,
  deps: WriterDeps,
  alongside: readonly { readonly key: string; readonly bytes: Uint8Array }[] = [],
): Promise<CommitResult> {
  const version = nextMetadataVersion(previousLocation)
  const key = `${rootKey}/metadata/${String(version).padStart(5, '0')}-${deps.random.uuid()}.metadata.json`
  const bytes = new TextEncoder().encode(serializeTableMetadata(metadata, 0))
  const all = [...alongside.map((f) => ({ key: f.key, data: f.bytes })), { key, data: bytes }]
  // fresh names nothing references until the catalog points at the metadata file, once this returns (durable then)
  const stored = await Promise.all(all.map((f) => putFresh(store, f.key, f.data)))
  const clash = all.find((_, i) => stored[i] !== true)
  if (clash)
    throw new TarnError('STORAGE_ERROR', `Metadata file ${clash.key} already exists`, { key: clash.key })
  const metadataLocation = store.uriOf(key)
  deps.metadataCache?.set(metadataLocation, metadata, bytes.length)
  const state = stateOf(metadata, metadataLocation)
  return { metadata, metadataLocation, snapshotId: state.snapshotId, state }
}

function partitionSummaries(files: readonly DataFile[], spec: PartitionSpec, schema: Schema): FieldSummary[] {
  const ptype = partitionType(spec, schema)
  return ptype.fields.map((pf) => {
    let containsNull = false
    let lo: IcebergValue = null
    let hi: IcebergValue = null
    for (const f of files) {
      const v = f.partition.get(pf.id) ?? null
      if (v === null) {
        containsNull = true
        continue
      }
      if (lo === null || compareIcebergValues(v, lo) < 0) lo = v
      if (hi === null || compareIcebergValues(v, hi) > 0) hi = v
    }
    return {
      containsNull,
      ...(lo === null ? {} : { lowerBound: encodeSingleValue(pf.type, lo) }),
      ...(hi === null ? {} : { upperBound: encodeSingleValue(pf.type, hi) }),
    }
  })
}

/**
 * What {@link commitSnapshot} needs.
 */
export interface SnapshotChange {
  readonly operation: 'append' | 'overwrite' | 'delete' | 'replace'
  /** New data files, written with the table's default spec. */
  readonly added: readonly DataFile[]
  /** Live data file entries this snapshot removes. */
  readonly removed: readonly ResolvedEntry[]
  /** Extra summary properties. */
  readonly summary?: Readonly<Record<string, string>>
}

/**
 * Produces one new snapshot from a change: keeps untouched manifests (dropping those with only DELETED entries,
 * which belong to the parent's change), rewrites manifests that lose files (survivors
 * as EXISTING with explicit sequence numbers, removed files as DELETED), adds one manifest of ADDED files (sequence
 * numbers inherited), writes the manifest list and a new metadata file, all at once (the metadata file is only
 * committed to a catalog once every file it names is stored, so none can be seen half-written). Existing files are
 * never modified.
 */
export async function commitSnapshot(
  table: LoadedTable,
  change: SnapshotChange,
  deps: WriterDeps,
): Promise<CommitResult> {
  const store = table.io.store
  const rootKey = keyOfUri(store, table.root)
  const m = table.metadata
  const schema = currentSchema(m)
  const spec = m['partition-specs'].find((s) => s['spec-id'] === m['default-spec-id'])
  if (!spec) throw new TarnError('INVALID_ARGUMENT', 'Table has no default partition spec')
  const parent = m.snapshots.find((s) => s['snapshot-id'] === m['current-snapshot-id'])
  const seq = m['last-sequence-number'] + 1
  const snapshotId = newSnapshotId(deps.random)
  const now = deps.clock.now()
  const removedPaths = new Set(change.removed.map((e) => e.dataFile.filePath))
  const manifests: ManifestFile[] = []
  const manifestKey = (n: number): string => `${rootKey}/metadata/${deps.random.uuid()}-m${n}.avro`
  let mi = 0
  /** The snapshot's new files: written at once with the metadata file, so their fsyncs overlap. */
  const files: { key: string; bytes: Uint8Array }[] = []
  let deletedFiles = 0
  let deletedRecords = 0
  if (change.added.length > 0) {
    const entries: ManifestEntry[] = change.added.map((dataFile) => ({ status: 1, snapshotId, dataFile }))
    const bytes = writeManifest({
      entries,
      schema,
      spec,
      partition: partitionType(spec, schema),
      content: 'data',
      syncMarker: deps.random.bytes(16),
    })
    const key = manifestKey(mi++)
    files.push({ key, bytes })
    manifests.push({
      manifestPath: store.uriOf(key),
      manifestLength: bytes.length,
      partitionSpecId: spec['spec-id'],
      content: 0,
      sequenceNumber: seq,
      minSequenceNumber: seq,
      addedSnapshotId: snapshotId,
      addedFilesCount: change.added.length,
      existingFilesCount: 0,
      deletedFilesCount: 0,
      addedRowsCount: change.added.reduce((a, f) => a + f.recordCount, 0),
      existingRowsCount: 0,
      deletedRowsCount: 0,
      partitions: partitionSummaries(change.added, spec, schema),
    })
  }
  if (parent) {
    for (const mf of await snapshotManifests(table, parent, sharedManifestCache)) {
      // A manifest whose entries are all DELETED told the parent snapshot what it removed and holds nothing live:
      // carrying it on would make every later snapshot read one more manifest per overwrite.
      if (mf.addedFilesCount === 0 && mf.existingFilesCount === 0 && mf.deletedFilesCount > 0) continue
      if (removedPaths.size === 0 || mf.content === 1) {
        manifests.push(mf)
        continue
      }
      const entries = await manifestEntries(table, mf, sharedManifestCache)
      const live = entries.filter((e) => e.status !== 2)
      if (!live.some((e) => removedPaths.has(e.dataFile.filePath))) {
        manifests.push(mf)
        continue
      }
      const kept = live.filter((e) => !removedPaths.has(e.dataFile.filePath))
      const gone = live.filter((e) => removedPaths.has(e.dataFile.filePath))
      const out: ManifestEntry[] = [
        ...kept.map(
          (e): ManifestEntry => ({
            status: 0,
            snapshotId: e.snapshotId,
            sequenceNumber: e.sequenceNumber,
            fileSequenceNumber: e.fileSequenceNumber,
            dataFile: e.dataFile,
          }),
        ),
        ...gone.map(
          (e): ManifestEntry => ({
            status: 2,
            snapshotId,
            sequenceNumber: e.sequenceNumber,
            fileSequenceNumber: e.fileSequenceNumber,
            dataFile: e.dataFile,
          }),
        ),
      ]
      deletedFiles += gone.length
      deletedRecords += gone.reduce((a, e) => a + e.dataFile.recordCount, 0)
      const mspec = m['partition-specs'].find((s) => s['spec-id'] === mf.partitionSpecId) ?? spec
      const bytes = writeManifest({
        entries: out,
        schema,
        spec: mspec,
        partition: partitionType(mspec, schema),
        content: 'data',
        syncMarker: deps.random.bytes(16),
      })
      const key = manifestKey(mi++)
      files.push({ key, bytes })
      manifests.push({
        manifestPath: store.uriOf(key),
        manifestLength: bytes.length,
        partitionSpecId: mf.partitionSpecId,
        content: 0,
        sequenceNumber: seq,
        minSequenceNumber: Math.min(seq, ...kept.map((e) => e.sequenceNumber)),
        addedSnapshotId: snapshotId,
        addedFilesCount: 0,
        existingFilesCount: kept.length,
        deletedFilesCount: gone.length,
        addedRowsCount: 0,
        existingRowsCount: kept.reduce((a, e) => a + e.dataFile.recordCount, 0),
        deletedRowsCount: gone.reduce((a, e) => a + e.dataFile.recordCount, 0),
        partitions: partitionSummaries(
          kept.map((e) => e.dataFile),
          mspec,
          schema,
        ),
      })
    }
  }
  const listBytes = writeManifestList({
    manifests,
    snapshotId,
    parentSnapshotId: parent ? parent['snapshot-id'] : null,
    sequenceNumber: seq,
    syncMarker: deps.random.bytes(16),
  })
  const listKey = `${rootKey}/metadata/snap-${snapshotId}-1-${deps.random.uuid()}.avro`
  files.push({ key: listKey, bytes: listBytes })
  const addedRecords = change.added.reduce((a, f) => a + f.recordCount, 0)
  const prevTotal = Number(parent?.summary['total-records'] ?? Number.NaN)
  const prevFiles = Number(parent?.summary['total-data-files'] ?? Number.NaN)
  const totals = (prev: number, base: number, plus: number, minus: number): string =>
    String((parent ? (Number.isNaN(prev) ? base : prev) : 0) + plus - minus)
  const summary: Snapshot['summary'] = {
    operation: change.operation,
    'added-data-files': String(change.added.length),
    'added-records': String(addedRecords),
    'added-files-size': String(change.added.reduce((a, f) => a + f.fileSizeInBytes, 0)),
    'deleted-data-files': String(deletedFiles),
    'deleted-records': String(deletedRecords),
    'total-records': totals(prevTotal, 0, addedRecords, deletedRecords),
    'total-data-files': totals(prevFiles, 0, change.added.length, deletedFiles),
    ...change.summary,
  }
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
    'sequence-number': seq,
    'timestamp-ms': now,
    'manifest-list': store.uriOf(listKey),
    summary,
    'schema-id': schema['schema-id'],
  }
  const next: TableMetadata = {
    ...m,
    'format-version': 2,
    'last-sequence-number': seq,
    'last-updated-ms': now,
    'current-snapshot-id': snapshotId,
    snapshots: [...m.snapshots, snapshot],
    refs: { ...m.refs, main: { 'snapshot-id': snapshotId, type: 'branch' } },
    'snapshot-log': [...m['snapshot-log'], { 'timestamp-ms': now, 'snapshot-id': snapshotId }],
    'metadata-log': nextMetadataLog(
      m['metadata-log'],
      { 'timestamp-ms': m['last-updated-ms'], 'metadata-file': table.metadataLocation },
      m.properties,
    ),
  }
  return writeMetadataFile(store, rootKey, next, table.metadataLocation, deps, files)
}
