import type { ManifestFile, ResolvedEntry } from './manifest.js'
import type { PartitionSpec } from './partition-spec.js'
import { manifestEntries, snapshotManifests } from './scan-planner.js'
import { type IcebergType, type IndexedField, indexSchemaById, type Schema } from './schema.js'
import type { LoadedTable } from './table-loader.js'
import { currentSchema, snapshotById, specById } from './table-metadata.js'

/**
 * One side of a table comparison: the loaded table and the snapshot and schema the catalog recorded for it.
 */
export interface TableSide {
  readonly table: LoadedTable
  readonly snapshotId: string | null
  readonly schemaId: number
}

/**
 * How a schema changed, field by field, matched by field id (so a rename is a rename, not a drop and an add).
 */
export interface SchemaDiff {
  readonly added: readonly { readonly id: number; readonly name: string; readonly type: string }[]
  readonly dropped: readonly { readonly id: number; readonly name: string; readonly type: string }[]
  readonly renamed: readonly { readonly id: number; readonly from: string; readonly to: string }[]
  /** Type changes (Iceberg allows only promotions: int→long, float→double, wider decimals). */
  readonly widened: readonly {
    readonly id: number
    readonly name: string
    readonly from: string
    readonly to: string
  }[]
  /** Fields that became optional (or required). */
  readonly requiredChanged: readonly {
    readonly id: number
    readonly name: string
    readonly required: boolean
  }[]
}

/**
 * A partition spec in words: `day(ts) as ts_day`, one string per field.
 */
export type PartitionSpecText = readonly string[]

/**
 * What changed between two states of one Iceberg table (or from nothing, or to nothing), read from metadata and
 * manifests only, never from data files: schema changes by field id, partition spec, and the data and delete files
 * (with their record counts) one side has and the other lacks.
 */
export interface TableMetadataDiff {
  /** True when the two sides are different tables (a drop and re-create), or one side is missing. */
  readonly recreated: boolean
  readonly snapshot: { readonly from: string | null; readonly to: string | null }
  readonly schema: SchemaDiff
  readonly partitionSpec: {
    readonly changed: boolean
    readonly from: PartitionSpecText
    readonly to: PartitionSpecText
  }
  /** Data files live on `to` and not on `from` (added), and the reverse (removed). */
  readonly dataFiles: { readonly added: number; readonly removed: number }
  /** Records in those data files (before delete files are applied). */
  readonly records: { readonly added: number; readonly removed: number }
  readonly deleteFiles: { readonly added: number; readonly removed: number }
  /** The data files added and removed (their entries), for callers that read their rows. */
  readonly files: {
    readonly added: readonly ResolvedEntry[]
    readonly removed: readonly ResolvedEntry[]
  }
}

const EMPTY_SCHEMA_DIFF: SchemaDiff = {
  added: [],
  dropped: [],
  renamed: [],
  widened: [],
  requiredChanged: [],
}

function typeText(t: IcebergType): string {
  return typeof t === 'string' ? t : t.type
}

function fieldName(f: IndexedField): string {
  return f.path.join('.')
}

/**
 * Compares two schemas by field id: fields only in `to` are added, only in `from` dropped; a field whose name or path
 * changed is renamed, whose primitive type changed is widened, whose optionality changed is listed too.
 */
export function diffSchemas(from: Schema | undefined, to: Schema | undefined): SchemaDiff {
  const a = from ? indexSchemaById(from) : new Map<number, IndexedField>()
  const b = to ? indexSchemaById(to) : new Map<number, IndexedField>()
  const out = {
    added: [] as { id: number; name: string; type: string }[],
    dropped: [] as { id: number; name: string; type: string }[],
    renamed: [] as { id: number; from: string; to: string }[],
    widened: [] as { id: number; name: string; from: string; to: string }[],
    requiredChanged: [] as { id: number; name: string; required: boolean }[],
  }
  for (const [id, f] of b) {
    const old = a.get(id)
    if (!old) {
      out.added.push({ id, name: fieldName(f), type: typeText(f.type) })
      continue
    }
    if (fieldName(old) !== fieldName(f)) out.renamed.push({ id, from: fieldName(old), to: fieldName(f) })
    if (
      typeof old.type === 'string' &&
      typeof f.type === 'string' &&
      old.type.replace(/\s/g, '') !== f.type.replace(/\s/g, '')
    ) {
      out.widened.push({ id, name: fieldName(f), from: old.type, to: f.type })
    }
    if (old.required !== f.required)
      out.requiredChanged.push({ id, name: fieldName(f), required: f.required })
  }
  for (const [id, f] of a)
    if (!b.has(id)) out.dropped.push({ id, name: fieldName(f), type: typeText(f.type) })
  const byId = <T extends { id: number }>(x: T[]): T[] => x.sort((p, q) => p.id - q.id)
  return {
    added: byId(out.added),
    dropped: byId(out.dropped),
    renamed: byId(out.renamed),
    widened: byId(out.widened),
    requiredChanged: byId(out.requiredChanged),
  }
}

/**
 * A partition spec in words, naming source columns as the schema calls them.
 */
export function specText(spec: PartitionSpec | undefined, schema: Schema | undefined): PartitionSpecText {
  if (!spec) return []
  const names = schema ? indexSchemaById(schema) : new Map<number, IndexedField>()
  return spec.fields.map((f) => {
    const col = names.get(f['source-id'])
    return `${f.transform}(${col ? fieldName(col) : `#${f['source-id']}`})`
  })
}

async function manifestsOf(side: TableSide | undefined): Promise<ManifestFile[]> {
  if (!side) return []
  const snap = snapshotById(side.table.metadata, side.snapshotId)
  return snap ? snapshotManifests(side.table, snap) : []
}

async function liveFiles(
  side: TableSide | undefined,
  manifests: readonly ManifestFile[],
  skip: ReadonlySet<string>,
): Promise<ResolvedEntry[]> {
  if (!side) return []
  const kept = manifests.filter((m) => !skip.has(m.manifestPath))
  const all = await Promise.all(kept.map((m) => manifestEntries(side.table, m)))
  return all.flat().filter((e) => e.status !== 2)
}

/**
 * Compares two states of a table (either may be missing: created or dropped) from metadata and manifests only.
 * Manifests both states list are skipped (their live files are the same on both sides), so the cost follows the
 * change, not the table size.
 */
export async function diffTableStates(
  from: TableSide | undefined,
  to: TableSide | undefined,
): Promise<TableMetadataDiff> {
  const schemaOf = (s: TableSide | undefined): Schema | undefined =>
    s ? currentSchema(s.table.metadata, s.schemaId) : undefined
  const specOf = (s: TableSide | undefined): PartitionSpec | undefined =>
    s ? specById(s.table.metadata) : undefined
  const recreated =
    from === undefined ||
    to === undefined ||
    from.table.metadata['table-uuid'] !== to.table.metadata['table-uuid']
  const [fromSchema, toSchema] = [schemaOf(from), schemaOf(to)]
  const schema = from && to ? diffSchemas(fromSchema, toSchema) : EMPTY_SCHEMA_DIFF
  const specFrom = specText(specOf(from), fromSchema)
  const specTo = specText(specOf(to), toSchema)
  const [mFrom, mTo] = await Promise.all([manifestsOf(from), manifestsOf(to)])
  const toManifests = new Set(mTo.map((m) => m.manifestPath))
  const shared = new Set(mFrom.map((m) => m.manifestPath).filter((p) => toManifests.has(p)))
  const [liveFrom, liveTo] = await Promise.all([liveFiles(from, mFrom, shared), liveFiles(to, mTo, shared)])
  const fromPaths = new Set(liveFrom.map((e) => e.dataFile.filePath))
  const toPaths = new Set(liveTo.map((e) => e.dataFile.filePath))
  const added = liveTo.filter((e) => !fromPaths.has(e.dataFile.filePath))
  const removed = liveFrom.filter((e) => !toPaths.has(e.dataFile.filePath))
  const data = (es: ResolvedEntry[]): ResolvedEntry[] => es.filter((e) => e.dataFile.content === 0)
  const records = (es: ResolvedEntry[]): number => es.reduce((n, e) => n + e.dataFile.recordCount, 0)
  return {
    recreated,
    snapshot: { from: from?.snapshotId ?? null, to: to?.snapshotId ?? null },
    schema,
    partitionSpec: {
      changed: from !== undefined && to !== undefined && specFrom.join(',') !== specTo.join(','),
      from: specFrom,
      to: specTo,
    },
    dataFiles: { added: data(added).length, removed: data(removed).length },
    records: { added: records(data(added)), removed: records(data(removed)) },
    deleteFiles: {
      added: added.length - data(added).length,
      removed: removed.length - data(removed).length,
    },
    files: { added: data(added), removed: data(removed) },
  }
}
