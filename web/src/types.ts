// The shapes of the /api/v1 documents the app reads: plain data, as the server sends it (see src/ for the originals).

export interface RefInfo {
  readonly name: string
  readonly kind: 'branch' | 'tag'
  readonly head: string
  readonly sealed: boolean
  readonly createdAt: number
}

export interface Commit {
  readonly hash: string
  readonly parents: readonly string[]
  readonly author: string
  readonly message: string
  readonly timestamp: number
  readonly properties: Readonly<Record<string, string>>
}

export interface RefWithCommit extends RefInfo {
  readonly commit: Commit
}

export interface ScanRecord {
  readonly filesKept: number
  readonly filesTotal: number
  readonly bytesKept: number
  readonly bytesTotal: number
}

export interface NodeRecord {
  readonly id: string
  readonly kind: 'scan' | 'model' | 'materialize' | 'expectation'
  readonly name: string
  readonly dependsOn?: readonly string[]
  readonly language?: 'sql' | 'ts' | 'py'
  readonly status: 'waiting' | 'running' | 'done' | 'failed' | 'skipped'
  readonly rows: number | null
  readonly startedAt: number | null
  readonly finishedAt: number | null
  readonly error: string | null
  readonly scan?: ScanRecord
}

export interface JobRecord {
  readonly id: string
  readonly kind: 'run' | 'import' | 'query'
  readonly status: 'running' | 'succeeded' | 'failed'
  readonly project?: string
  readonly target: string
  readonly runBranch?: string
  readonly author: string
  readonly startedAt: number
  readonly finishedAt: number | null
  readonly nodes?: readonly NodeRecord[]
  readonly tables?: Readonly<Record<string, number>>
  readonly mergeCommit?: string | null
  readonly error: { readonly code: string; readonly message: string } | null
}

export interface SchemaField {
  readonly id: number
  readonly name: string
  readonly type: unknown
  readonly required: boolean
}

export interface TableEntry {
  readonly table: string
  readonly namespace: string
  readonly name: string
}

export interface TableDetails {
  readonly table: string
  readonly ref: string
  readonly location: string
  readonly schema: readonly SchemaField[]
  readonly partitionSpec: readonly unknown[]
  readonly snapshots: readonly {
    readonly snapshotId: string
    readonly timestamp: string
    readonly operation: string
    readonly summary: Readonly<Record<string, string>>
  }[]
  readonly recordCount: number
  readonly dataFiles: number
  readonly deleteFiles: number
  readonly sizeBytes: number
}

export interface TableChange {
  readonly table: string
  readonly change: 'added' | 'removed' | 'changed'
  readonly schema: Readonly<Record<string, readonly unknown[]>>
  readonly partitionSpec: { readonly changed: boolean; readonly from: unknown; readonly to: unknown }
  readonly dataFiles: { readonly added: number; readonly removed: number }
  readonly records: { readonly added: number; readonly removed: number }
}

export interface RefDiff {
  readonly tableChanges: readonly TableChange[]
  readonly namespaces: { readonly added: readonly unknown[]; readonly removed: readonly unknown[] }
}

export interface MergeResult {
  readonly kind: 'fast-forward' | 'merge' | 'up-to-date' | 'conflict'
  readonly dryRun: boolean
  readonly target: { readonly branch: string; readonly before: string; readonly after: string }
  readonly changes: {
    readonly tables: readonly string[]
    readonly namespaces: readonly string[]
    readonly combined: readonly string[]
  }
  readonly conflicts: readonly { readonly kind: string; readonly name: string; readonly reason: string }[]
}

export interface RevertResult {
  readonly commit: Commit
  readonly tables: readonly string[]
  readonly warning?: string
}

export interface PlanTable {
  readonly table: string
  readonly filesKept: number
  readonly filesTotal: number
  readonly rowsToRead: number
  readonly columns: readonly string[]
}

export interface QueryPlan {
  readonly ref: string
  readonly commit: string
  readonly tables: readonly PlanTable[]
}

export type Row = Readonly<Record<string, unknown>>
