import type { LakeDiff } from '../catalog/results.js'
import type { TableState } from '../catalog/types.js'
import type { ResolvedEntry } from '../iceberg/manifest.js'
import type { ScanPlan } from '../iceberg/scan-planner.js'
import { diffTableStates, type TableMetadataDiff, type TableSide } from '../iceberg/table-diff.js'
import { loadTable } from '../iceberg/table-loader.js'
import { currentSchema } from '../iceberg/table-metadata.js'
import type { ObjectStore } from '../storage/object-store.js'

/**
 * A JSON value of a row read for a diff (64-bit integers and decimals as strings, times as ISO text).
 *
 * @example
 * ```ts
 * const v: DiffRowValue = '2026-01-01 00:00:00'
 * ```
 */
export type DiffRowValue =
  | null
  | boolean
  | number
  | string
  | readonly DiffRowValue[]
  | { readonly [key: string]: DiffRowValue }

/**
 * What changed in one table between the two sides of a diff: schema changes by field id, partition spec, data and
 * delete files and records added and removed (from metadata and manifests), and with `rows` some of the rows of the
 * added and removed data files.
 *
 * @example
 * ```ts
 * const c: TableChange = d.tableChanges[0]; console.log(c.table, c.records.added, c.schema.renamed)
 * ```
 */
export interface TableChange extends Omit<TableMetadataDiff, 'files'> {
  readonly table: string
  readonly change: 'added' | 'removed' | 'changed'
  /** With the `rows` option: up to that many rows of the data files added, and of those removed. */
  readonly rows?: {
    readonly added: readonly Readonly<Record<string, DiffRowValue>>[]
    readonly removed: readonly Readonly<Record<string, DiffRowValue>>[]
  }
}

/**
 * A lake diff with the content of every changed table described (see {@link TableChange}).
 *
 * @example
 * ```ts
 * const d: RefDiff = await lake.diff('dev', 'main', { rows: 5 })
 * for (const t of d.tableChanges) console.log(t.table, `+${t.records.added}`, `-${t.records.removed}`)
 * ```
 */
export interface RefDiff extends LakeDiff {
  readonly tableChanges: readonly TableChange[]
}

async function side(store: ObjectStore, state: TableState | undefined): Promise<TableSide | undefined> {
  if (!state) return undefined
  return {
    table: await loadTable(store, state.metadataLocation),
    snapshotId: state.snapshotId,
    schemaId: state.schemaId,
  }
}

/** Up to `limit` rows of the given data files of one table state, columns mapped by field id, deletes not applied. */
async function rowsOf(
  s: TableSide | undefined,
  files: readonly ResolvedEntry[],
  limit: number,
): Promise<Readonly<Record<string, DiffRowValue>>[]> {
  if (!s || files.length === 0 || limit <= 0) return []
  const picked: ResolvedEntry[] = []
  let rows = 0
  for (const f of files) {
    if (rows >= limit) break
    picked.push(f)
    rows += f.dataFile.recordCount
  }
  const plan: ScanPlan = {
    snapshotId: null,
    schema: currentSchema(s.table.metadata, s.schemaId),
    tasks: picked.map((dataFile) => ({ dataFile, deletes: [] })),
    totalDataFiles: picked.length,
  }
  // DuckDB loads only when a diff reads rows (`--rows`), not with every command that opens the lake.
  const [{ scanSql }, { withConnection }] = await Promise.all([
    import('../iceberg/table-reader.js'),
    import('../duckdb/with-connection.js'),
  ])
  return withConnection(undefined, async (conn) => {
    const sql = await scanSql(s.table, plan, conn)
    const reader = await conn.runAndReadAll(`${sql} LIMIT ${Math.floor(limit)}`)
    return reader.getRowObjectsJson() as Record<string, DiffRowValue>[]
  })
}

/**
 * Describes every table of a lake diff from the Iceberg metadata and manifests of its two states (never the data),
 * and with `rows` reads up to that many rows of the data files each side added and removed.
 */
export async function describeDiff(
  store: ObjectStore,
  diff: LakeDiff,
  options: { rows?: number } = {},
): Promise<RefDiff> {
  const pairs = [
    ...diff.tables.added.map((t) => ({
      table: t.table,
      change: 'added' as const,
      from: undefined,
      to: t.state,
    })),
    ...diff.tables.removed.map((t) => ({
      table: t.table,
      change: 'removed' as const,
      from: t.state,
      to: undefined,
    })),
    ...diff.tables.changed.map((t) => ({
      table: t.table,
      change: 'changed' as const,
      from: t.from,
      to: t.to,
    })),
  ].sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0))
  const tableChanges: TableChange[] = []
  for (const p of pairs) {
    const [from, to] = await Promise.all([side(store, p.from), side(store, p.to)])
    const { files, ...d } = await diffTableStates(from, to)
    const rows =
      options.rows === undefined
        ? undefined
        : {
            added: await rowsOf(to, files.added, options.rows),
            removed: await rowsOf(from, files.removed, options.rows),
          }
    tableChanges.push({ table: p.table, change: p.change, ...d, ...(rows ? { rows } : {}) })
  }
  return { ...diff, tableChanges }
}
