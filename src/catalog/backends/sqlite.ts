import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { messageOf, TarnError } from '../../util/errors.js'
import {
  type AdminRecord,
  type BranchUpdate,
  type CatalogBackend,
  reflogMoves,
  type UpdateBranchOutcome,
} from '../backend.js'
import type { Commit, RefInfo, RefKind, ReflogEntry, StoredObject } from '../types.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (hash TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS commits (
  hash TEXT PRIMARY KEY, parents TEXT NOT NULL, tree TEXT NOT NULL, overlay TEXT NOT NULL, generation INTEGER NOT NULL,
  author TEXT NOT NULL, message TEXT NOT NULL, ts INTEGER NOT NULL, properties TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refs (
  name TEXT PRIMARY KEY, kind TEXT NOT NULL, head TEXT NOT NULL, sealed INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS reflog (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, old_head TEXT, new_head TEXT, at INTEGER NOT NULL,
  operation TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reflog_name ON reflog (name, id);
CREATE TABLE IF NOT EXISTS admin_records (
  kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, id)
) WITHOUT ROWID;
`

interface CommitRow {
  hash: string
  parents: string
  tree: string
  overlay: string
  generation: number
  author: string
  message: string
  ts: number
  properties: string
}
interface RefRow {
  name: string
  kind: string
  head: string
  sealed: number
  created_at: number
}

function toCommit(r: CommitRow): Commit {
  return Object.freeze({
    hash: r.hash,
    parents: Object.freeze(JSON.parse(r.parents) as string[]),
    tree: r.tree,
    overlay: Object.freeze(JSON.parse(r.overlay) as Commit['overlay']),
    generation: r.generation,
    author: r.author,
    message: r.message,
    timestamp: r.ts,
    properties: Object.freeze(JSON.parse(r.properties) as Record<string, string>),
  })
}

function toRef(r: RefRow): RefInfo {
  return {
    name: r.name,
    kind: r.kind as RefKind,
    head: r.head,
    sealed: r.sealed !== 0,
    createdAt: r.created_at,
  }
}

function wrap<T>(what: string, location: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof TarnError) throw e
    throw new TarnError(
      'CATALOG_ERROR',
      `catalog ${what} failed: ${messageOf(e)}`,
      { catalog: location },
      { cause: e },
    )
  }
}

/**
 * The embedded catalog backend: one SQLite file (WAL mode, busy timeout) that several processes can share safely;
 * every branch update is a `BEGIN IMMEDIATE` transaction with a compare-and-swap on the head.
 *
 * @example
 * ```ts
 * const backend = SqliteBackend.open('/tmp/lake/catalog.db')
 * await backend.migrate()
 * await backend.close()
 * ```
 */
export class SqliteBackend implements CatalogBackend {
  readonly kind = 'sqlite' as const
  readonly location: string
  readonly #db: Database.Database
  readonly #statements = new Map<string, Database.Statement>()

  private constructor(path: string, db: Database.Database) {
    this.location = path
    this.#db = db
  }

  /** Opens (creating if needed) the SQLite file at `path`; `:memory:` gives a private in-memory catalog. */
  static open(path: string): SqliteBackend {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    return wrap('open', path, () => {
      const db = new Database(path)
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.pragma('busy_timeout = 10000')
      db.pragma('foreign_keys = OFF')
      return new SqliteBackend(path, db)
    })
  }

  #sql(text: string): Database.Statement {
    let st = this.#statements.get(text)
    if (!st) {
      st = this.#db.prepare(text)
      this.#statements.set(text, st)
    }
    return st
  }

  async migrate(): Promise<void> {
    wrap('migrate', this.location, () => this.#db.exec(SCHEMA))
  }

  async getMeta(key: string): Promise<string | undefined> {
    return wrap('read', this.location, () => {
      const row = this.#sql('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined
      return row?.value
    })
  }

  async initMeta(key: string, value: string): Promise<string> {
    return wrap('write', this.location, () => {
      this.#sql('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(key, value)
      return (this.#sql('SELECT value FROM meta WHERE key = ?').get(key) as { value: string }).value
    })
  }

  async getObjects(hashes: readonly string[]): Promise<ReadonlyMap<string, Uint8Array>> {
    return wrap('read', this.location, () => {
      const out = new Map<string, Uint8Array>()
      const stmt = this.#sql('SELECT data FROM objects WHERE hash = ?')
      for (const h of hashes) {
        const row = stmt.get(h) as { data: Buffer } | undefined
        if (row) out.set(h, new Uint8Array(row.data))
      }
      return out
    })
  }

  #insertObjects(objects: readonly StoredObject[]): void {
    // One multi-row statement per batch of up to 16: a commit usually writes a handful of tree nodes.
    for (let i = 0; i < objects.length; i += 16) {
      const batch = objects.slice(i, i + 16)
      const st = this.#sql(
        `INSERT OR IGNORE INTO objects (hash, data) VALUES ${batch.map(() => '(?, ?)').join(', ')}`,
      )
      st.run(batch.flatMap((o) => [o.hash, Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength)]))
    }
  }

  #insertCommit(c: Commit): void {
    this.#sql(
      'INSERT OR IGNORE INTO commits (hash, parents, tree, overlay, generation, author, message, ts, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(
      c.hash,
      JSON.stringify(c.parents),
      c.tree,
      JSON.stringify(c.overlay),
      c.generation,
      c.author,
      c.message,
      c.timestamp,
      JSON.stringify(c.properties),
    )
  }

  async putObjects(objects: readonly StoredObject[]): Promise<void> {
    wrap('write', this.location, () => this.#db.transaction(() => this.#insertObjects(objects)).immediate())
  }

  async getCommits(hashes: readonly string[]): Promise<ReadonlyMap<string, Commit>> {
    return wrap('read', this.location, () => {
      const out = new Map<string, Commit>()
      const stmt = this.#sql('SELECT * FROM commits WHERE hash = ?')
      for (const h of hashes) {
        const row = stmt.get(h) as CommitRow | undefined
        if (row) out.set(h, toCommit(row))
      }
      return out
    })
  }

  async putCommit(commit: Commit, objects: readonly StoredObject[]): Promise<void> {
    wrap('write', this.location, () =>
      this.#db
        .transaction(() => {
          this.#insertObjects(objects)
          this.#insertCommit(commit)
        })
        .immediate(),
    )
  }

  async putCommits(commits: readonly Commit[], objects: readonly StoredObject[]): Promise<void> {
    wrap('write', this.location, () =>
      this.#db
        .transaction(() => {
          this.#insertObjects(objects)
          for (const c of commits) this.#insertCommit(c)
        })
        .immediate(),
    )
  }

  async findCommitHashes(prefix: string, limit: number): Promise<string[]> {
    return wrap('read', this.location, () => {
      const rows = this.#sql(
        'SELECT hash FROM commits WHERE hash >= ? AND hash < ? ORDER BY hash LIMIT ?',
      ).all(prefix, `${prefix}g`, limit) as { hash: string }[]
      return rows.map((r) => r.hash)
    })
  }

  async getRef(name: string): Promise<RefInfo | undefined> {
    return wrap('read', this.location, () => {
      const row = this.#sql('SELECT * FROM refs WHERE name = ?').get(name) as RefRow | undefined
      return row ? toRef(row) : undefined
    })
  }

  async listRefs(kind?: RefKind): Promise<RefInfo[]> {
    return wrap('read', this.location, () => {
      const rows = (
        kind
          ? this.#sql('SELECT * FROM refs WHERE kind = ? ORDER BY name').all(kind)
          : this.#sql('SELECT * FROM refs ORDER BY name').all()
      ) as RefRow[]
      return rows.map(toRef)
    })
  }

  #log(name: string, oldHead: string | null, newHead: string | null, at: number, operation: string): void {
    this.#sql('INSERT INTO reflog (name, old_head, new_head, at, operation) VALUES (?, ?, ?, ?, ?)').run(
      name,
      oldHead,
      newHead,
      at,
      operation,
    )
  }

  async createRef(ref: RefInfo, operation: string): Promise<boolean> {
    return wrap('write', this.location, () =>
      this.#db
        .transaction(() => {
          const r = this.#sql(
            'INSERT OR IGNORE INTO refs (name, kind, head, sealed, created_at) VALUES (?, ?, ?, ?, ?)',
          ).run(ref.name, ref.kind, ref.head, ref.sealed ? 1 : 0, ref.createdAt)
          if (r.changes === 1) this.#log(ref.name, null, ref.head, ref.createdAt, operation)
          return r.changes === 1
        })
        .immediate(),
    )
  }

  async updateBranch(u: BranchUpdate): Promise<UpdateBranchOutcome> {
    return wrap('write', this.location, () =>
      this.#db
        .transaction((): UpdateBranchOutcome => {
          const row = this.#sql('SELECT * FROM refs WHERE name = ?').get(u.name) as RefRow | undefined
          if (!row) return 'missing'
          if (row.kind !== 'branch') return 'not-branch'
          if (row.sealed) return 'sealed'
          if (row.head !== u.expectedHead) return 'moved'
          if (u.objects) this.#insertObjects(u.objects)
          if (u.commit) this.#insertCommit(u.commit)
          for (const c of u.chain ?? []) this.#insertCommit(c)
          this.#sql('UPDATE refs SET head = ? WHERE name = ?').run(u.newHead, u.name)
          for (const m of reflogMoves(u)) this.#log(u.name, m.from, m.to, u.at, u.operation)
          return 'ok'
        })
        .immediate(),
    )
  }

  async deleteRef(name: string, kind: RefKind, at: number, expectedHead?: string): Promise<boolean> {
    return wrap('write', this.location, () =>
      this.#db
        .transaction(() => {
          const row = this.#sql('SELECT * FROM refs WHERE name = ? AND kind = ?').get(name, kind) as
            | RefRow
            | undefined
          if (!row || (expectedHead !== undefined && row.head !== expectedHead)) return false
          this.#sql('DELETE FROM refs WHERE name = ?').run(name)
          this.#log(name, row.head, null, at, `delete ${kind}`)
          return true
        })
        .immediate(),
    )
  }

  async renameRef(from: string, to: string, at: number): Promise<'ok' | 'missing' | 'exists'> {
    return wrap('write', this.location, () =>
      this.#db
        .transaction(() => {
          const row = this.#sql('SELECT * FROM refs WHERE name = ?').get(from) as RefRow | undefined
          if (!row) return 'missing' as const
          if (this.#sql('SELECT 1 FROM refs WHERE name = ?').get(to)) return 'exists' as const
          this.#sql('UPDATE refs SET name = ? WHERE name = ?').run(to, from)
          this.#log(from, row.head, null, at, `rename to ${to}`)
          this.#log(to, null, row.head, at, `rename from ${from}`)
          return 'ok' as const
        })
        .immediate(),
    )
  }

  async sealBranch(name: string, at: number): Promise<boolean> {
    return wrap('write', this.location, () =>
      this.#db
        .transaction(() => {
          const r = this.#sql("UPDATE refs SET sealed = 1 WHERE name = ? AND kind = 'branch'").run(name)
          if (r.changes === 1) this.#log(name, null, null, at, 'seal')
          return r.changes === 1
        })
        .immediate(),
    )
  }

  async reflog(name: string): Promise<ReflogEntry[]> {
    return wrap('read', this.location, () => {
      const rows = this.#sql('SELECT * FROM reflog WHERE name = ? ORDER BY id').all(name) as {
        name: string
        old_head: string | null
        new_head: string | null
        at: number
        operation: string
      }[]
      return rows.map((r) => ({
        name: r.name,
        oldHead: r.old_head,
        newHead: r.new_head,
        at: r.at,
        operation: r.operation,
      }))
    })
  }

  async listRecords(kind: string): Promise<AdminRecord[]> {
    return wrap('read', this.location, () =>
      this.#sql('SELECT kind, id, value FROM admin_records WHERE kind = ? ORDER BY id').all(kind),
    ) as AdminRecord[]
  }

  async getRecord(kind: string, id: string): Promise<AdminRecord | undefined> {
    return wrap('read', this.location, () =>
      this.#sql('SELECT kind, id, value FROM admin_records WHERE kind = ? AND id = ?').get(kind, id),
    ) as AdminRecord | undefined
  }

  async insertRecord(record: AdminRecord): Promise<boolean> {
    return wrap('write', this.location, () => {
      const r = this.#sql('INSERT OR IGNORE INTO admin_records (kind, id, value) VALUES (?, ?, ?)').run(
        record.kind,
        record.id,
        record.value,
      )
      return r.changes > 0
    })
  }

  async deleteRecord(kind: string, id: string): Promise<boolean> {
    return wrap('write', this.location, () => {
      return this.#sql('DELETE FROM admin_records WHERE kind = ? AND id = ?').run(kind, id).changes > 0
    })
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close()
  }
}
