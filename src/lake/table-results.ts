import type { Commit, TableState } from '../catalog/types.js'

/**
 * What a table write (create, import, register) did.
 *
 * @example
 * ```ts
 * const { addedRecords, commit } = await lake.importTable('orders', { from: 'more/*.csv' })
 * ```
 */
export interface TableWriteResult {
  readonly table: string
  readonly branch: string
  readonly commit: Commit
  readonly state: TableState
  /** Files read (imports). */
  readonly files: readonly string[]
  /** Rows added by this write. */
  readonly addedRecords: number
}

/**
 * A table's Iceberg description at a ref: schema, partition spec, snapshots, size.
 *
 * @example
 * ```ts
 * const { schema, recordCount, snapshots } = await lake.getTable('orders', { ref: 'v1' })
 * ```
 */
export interface TableDetails {
  readonly table: string
  readonly ref: string
  readonly state: TableState
  readonly formatVersion: number
  readonly location: string
  readonly schema: readonly { id: number; name: string; type: string; required: boolean }[]
  readonly partitionSpec: readonly { name: string; transform: string; sourceColumn: string }[]
  readonly snapshots: readonly {
    snapshotId: string
    parentId: string | null
    timestamp: string
    operation: string
    summary: Record<string, string>
  }[]
  readonly currentSnapshotId: string | null
  /** Rows in the live data files (before delete files are applied). */
  readonly recordCount: number
  readonly dataFiles: number
  readonly deleteFiles: number
  readonly sizeBytes: number
  readonly properties: Readonly<Record<string, string>>
}

/**
 * A table listed at a ref.
 *
 * @example
 * ```ts
 * for (const t of await lake.listTables({ namespace: 'sales' })) console.log(t.table)
 * ```
 */
export interface TableEntry {
  readonly table: string
  readonly namespace: string
  readonly name: string
  readonly state: TableState
  /** Rows, data files and bytes (when listed with `stats`). */
  readonly stats?: TableStats
}

/**
 * The size of a table at a ref: rows in its live data files (before deletes), data files and their bytes.
 */
export interface TableStats {
  readonly rows: number
  readonly files: number
  readonly sizeBytes: number
}
