import type pg from 'pg'
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
CREATE TABLE IF NOT EXISTS objects (hash TEXT PRIMARY KEY, data BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS commits (
  hash TEXT PRIMARY KEY, parents JSONB NOT NULL, tree TEXT NOT NULL, overlay JSONB NOT NULL, generation INTEGER NOT NULL,
  author TEXT NOT NULL, message TEXT NOT NULL, ts BIGINT NOT NULL, properties JSONB NOT NULL
);
CREATE TABLE IF NOT EXISTS refs (
  name TEXT PRIMARY KEY, kind TEXT NOT NULL, head TEXT NOT NULL, sealed BOOLEAN NOT NULL DEFAULT FALSE,
  created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS reflog (
  id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, old_head TEXT, new_head TEXT, at BIGINT NOT NULL, operation TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reflog_name ON reflog (name, id);
CREATE TABLE IF NOT EXISTS admin_records (kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, id));
`

/**
 * Connections a backend's pool opens at most: the server answers several clients at once, and a commit holds one
 * only for its single compare-and-swap statement.
 */
const DEFAULT_MAX_CONNECTIONS = 8

interface CommitRow {
  hash: string
  parents: string[]
  tree: string
  overlay: Commit['overlay']
  generation: number
  author: string
  message: string
  ts: string
  properties: Record<string, string>
}
interface RefRow {
  name: string
  kind: string
  head: string
  sealed: boolean
  created_at: string
}

function toCommit(r: CommitRow): Commit {
  return Object.freeze({
    hash: r.hash,
    parents: Object.freeze([...r.parents]),
    tree: r.tree,
    overlay: Object.freeze({ ...r.overlay }),
    generation: r.generation,
    author: r.author,
    message: r.message,
    timestamp: Number(r.ts),
    properties: Object.freeze({ ...r.properties }),
  })
}

function toRef(r: RefRow): RefInfo {
  return {
    name: r.name,
    kind: r.kind as RefKind,
    head: r.head,
    sealed: r.sealed,
    createdAt: Number(r.created_at),
  }
}

/**
 * The connection URL with any password replaced by `***`, fit for messages.
 *
 * @example
 * ```ts
 * redactUrl('postgres://u:secret@db/tarn') // 'postgres://u:***@db/tarn'
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'postgres://(unparseable url)'
  }
}

/**
 * The team catalog backend: PostgreSQL. Branch updates are transactions that lock the ref row (`SELECT ... FOR
 * UPDATE`) and compare its head, so concurrent writers from many processes never lose an acknowledged update.
 * A `schema` query parameter in the URL (`postgres://.../db?schema=lake1`) keeps several lakes in one database.
 *
 * @example
 * ```ts
 * const backend = PostgresBackend.open('postgres://tarn@127.0.0.1/tarn?schema=lake1')
 * await backend.migrate()
 * await backend.close()
 * ```
 */
export class PostgresBackend implements CatalogBackend {
  readonly kind = 'postgres' as const
  readonly location: string
  readonly #poolConfig: pg.PoolConfig
  readonly #schema: string
  /** The connection pool, made on first use: the `pg` module loads only when a catalog on PostgreSQL is used. */
  #pool: Promise<pg.Pool> | undefined
  #closed = false

  private constructor(location: string, poolConfig: pg.PoolConfig, schema: string) {
    this.location = location
    this.#poolConfig = poolConfig
    this.#schema = schema
  }

  #getPool(): Promise<pg.Pool> {
    if (this.#closed) return Promise.reject(new Error('Cannot use a pool after calling end on the pool'))
    this.#pool ??= import('pg').then(({ default: driver }) => {
      const pool = new driver.Pool(this.#poolConfig)
      pool.on('error', () => {
        // An idle client lost its connection; the pool replaces it on next use.
      })
      return pool
    })
    return this.#pool
  }

  /** Opens a connection pool for `url` (nothing is sent until the first call). */
  static open(url: string, options: { maxConnections?: number } = {}): PostgresBackend {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch (e) {
      throw new TarnError(
        'INVALID_ARGUMENT',
        'TARN_CATALOG_URL is not a valid postgres:// URL',
        {},
        { cause: e },
      )
    }
    const schema = parsed.searchParams.get('schema') ?? 'public'
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
      throw new TarnError('INVALID_ARGUMENT', `invalid catalog schema name ${JSON.stringify(schema)}`, {
        schema,
      })
    }
    parsed.searchParams.delete('schema')
    const poolConfig: pg.PoolConfig = {
      connectionString: parsed.toString(),
      max: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      options: `-c search_path=${schema}`,
    }
    return new PostgresBackend(redactUrl(url), poolConfig, schema)
  }

  async #q<R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await (await this.#getPool()).query<R>(sql, params)).rows
    } catch (e) {
      throw this.#error(what, e)
    }
  }

  #error(what: string, e: unknown): TarnError {
    if (e instanceof TarnError) return e
    return new TarnError(
      'CATALOG_ERROR',
      `catalog ${what} failed: ${messageOf(e)}`,
      { catalog: this.location },
      {
        cause: e,
      },
    )
  }

  async #tx<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient
    try {
      client = await (await this.#getPool()).connect()
    } catch (e) {
      throw this.#error(what, e)
    }
    // A checked-out client has no 'error' listener of the pool: a connection dropped mid-transaction would be an
    // uncaught exception that kills the process. The failing query reports the drop; this listener only absorbs it.
    const absorb = (): void => undefined
    client.on('error', absorb)
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      const out = await fn(client)
      await client.query('COMMIT')
      return out
    } catch (e) {
      await client.query('ROLLBACK').catch((r: unknown) => {
        broken = r instanceof Error ? r : new Error(String(r))
      })
      throw this.#error(what, e)
    } finally {
      client.off('error', absorb)
      // A client whose ROLLBACK failed lost its connection: the pool discards it instead of handing it out again.
      client.release(broken)
    }
  }

  async migrate(): Promise<void> {
    await this.#tx('migrate', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(7272727)')
      await c.query(`CREATE SCHEMA IF NOT EXISTS "${this.#schema}"`)
      await c.query(SCHEMA)
    })
  }

  async getMeta(key: string): Promise<string | undefined> {
    const rows = await this.#q<{ value: string }>('read', 'SELECT value FROM meta WHERE key = $1', [key])
    return rows[0]?.value
  }

  async initMeta(key: string, value: string): Promise<string> {
    await this.#q('write', 'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
      key,
      value,
    ])
    return (await this.getMeta(key)) as string
  }

  async getObjects(hashes: readonly string[]): Promise<ReadonlyMap<string, Uint8Array>> {
    if (hashes.length === 0) return new Map()
    const rows = await this.#q<{ hash: string; data: Buffer }>(
      'read',
      'SELECT hash, data FROM objects WHERE hash = ANY($1)',
      [hashes],
    )
    return new Map(rows.map((r) => [r.hash, new Uint8Array(r.data)]))
  }

  async #insertObjects(c: pg.ClientBase | pg.Pool, objects: readonly StoredObject[]): Promise<void> {
    if (objects.length === 0) return
    await c.query(
      'INSERT INTO objects (hash, data) SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT (hash) DO NOTHING',
      [objects.map((o) => o.hash), objects.map((o) => Buffer.from(o.data))],
    )
  }

  async #insertCommit(c: pg.ClientBase, commit: Commit): Promise<void> {
    await c.query(
      `INSERT INTO commits (hash, parents, tree, overlay, generation, author, message, ts, properties)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (hash) DO NOTHING`,
      [
        commit.hash,
        JSON.stringify(commit.parents),
        commit.tree,
        JSON.stringify(commit.overlay),
        commit.generation,
        commit.author,
        commit.message,
        commit.timestamp,
        JSON.stringify(commit.properties),
      ],
    )
  }

  async putObjects(objects: readonly StoredObject[]): Promise<void> {
    try {
      await this.#insertObjects(await this.#getPool(), objects)
    } catch (e) {
      throw this.#error('write', e)
    }
  }

  async getCommits(hashes: readonly string[]): Promise<ReadonlyMap<string, Commit>> {
    if (hashes.length === 0) return new Map()
    const rows = await this.#q<CommitRow>('read', 'SELECT * FROM commits WHERE hash = ANY($1)', [hashes])
    return new Map(rows.map((r) => [r.hash, toCommit(r)]))
  }

  async putCommit(commit: Commit, objects: readonly StoredObject[]): Promise<void> {
    await this.#tx('write', async (c) => {
      await this.#insertObjects(c, objects)
      await this.#insertCommit(c, commit)
    })
  }

  async putCommits(commits: readonly Commit[], objects: readonly StoredObject[]): Promise<void> {
    await this.#tx('write', async (c) => {
      for (let i = 0; i < objects.length; i += 5000) await this.#insertObjects(c, objects.slice(i, i + 5000))
      for (let i = 0; i < commits.length; i += 5000) {
        const batch = commits.slice(i, i + 5000)
        await c.query(
          `INSERT INTO commits (hash, parents, tree, overlay, generation, author, message, ts, properties)
           SELECT * FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::jsonb[], $5::int[], $6::text[], $7::text[], $8::bigint[], $9::jsonb[])
           ON CONFLICT (hash) DO NOTHING`,
          [
            batch.map((x) => x.hash),
            batch.map((x) => JSON.stringify(x.parents)),
            batch.map((x) => x.tree),
            batch.map((x) => JSON.stringify(x.overlay)),
            batch.map((x) => x.generation),
            batch.map((x) => x.author),
            batch.map((x) => x.message),
            batch.map((x) => x.timestamp),
            batch.map((x) => JSON.stringify(x.properties)),
          ],
        )
      }
    })
  }

  async findCommitHashes(prefix: string, limit: number): Promise<string[]> {
    const rows = await this.#q<{ hash: string }>(
      'read',
      'SELECT hash FROM commits WHERE hash >= $1 AND hash < $2 ORDER BY hash LIMIT $3',
      [prefix, `${prefix}g`, limit],
    )
    return rows.map((r) => r.hash)
  }

  async getRef(name: string): Promise<RefInfo | undefined> {
    const rows = await this.#q<RefRow>('read', 'SELECT * FROM refs WHERE name = $1', [name])
    return rows[0] ? toRef(rows[0]) : undefined
  }

  async listRefs(kind?: RefKind): Promise<RefInfo[]> {
    const rows = kind
      ? await this.#q<RefRow>('read', 'SELECT * FROM refs WHERE kind = $1 ORDER BY name COLLATE "C"', [kind])
      : await this.#q<RefRow>('read', 'SELECT * FROM refs ORDER BY name COLLATE "C"')
    return rows.map(toRef)
  }

  async #log(
    c: pg.ClientBase,
    name: string,
    oldHead: string | null,
    newHead: string | null,
    at: number,
    op: string,
  ): Promise<void> {
    await c.query(
      'INSERT INTO reflog (name, old_head, new_head, at, operation) VALUES ($1, $2, $3, $4, $5)',
      [name, oldHead, newHead, at, op],
    )
  }

  async createRef(ref: RefInfo, operation: string): Promise<boolean> {
    return this.#tx('write', async (c) => {
      const r = await c.query(
        'INSERT INTO refs (name, kind, head, sealed, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING',
        [ref.name, ref.kind, ref.head, ref.sealed, ref.createdAt],
      )
      if (r.rowCount === 1) await this.#log(c, ref.name, null, ref.head, ref.createdAt, operation)
      return r.rowCount === 1
    })
  }

  /**
   * One statement, so one round trip and the ref row locked only while it runs: the compare-and-swap is the
   * `UPDATE ... WHERE head = expected` (under READ COMMITTED a concurrent update makes it re-check the new row), and
   * the commits, objects and reflog rows are inserted only when it moved the branch.
   */
  async updateBranch(u: BranchUpdate): Promise<UpdateBranchOutcome> {
    const commits = u.chain && u.chain.length > 0 ? u.chain : u.commit ? [u.commit] : []
    const objects = u.objects ?? []
    const moves = reflogMoves(u)
    const rows = await this.#q<{ moved: number; kind: string | null; sealed: boolean | null }>(
      'write',
      `WITH moved AS (
         UPDATE refs SET head = $3 WHERE name = $1 AND kind = 'branch' AND NOT sealed AND head = $2 RETURNING name
       ), new_objects AS (
         INSERT INTO objects (hash, data)
         SELECT h, d FROM unnest($4::text[], $5::bytea[]) AS o(h, d) WHERE EXISTS (SELECT 1 FROM moved)
         ON CONFLICT (hash) DO NOTHING
       ), new_commits AS (
         INSERT INTO commits (hash, parents, tree, overlay, generation, author, message, ts, properties)
         SELECT * FROM unnest($6::text[], $7::jsonb[], $8::text[], $9::jsonb[], $10::int[], $11::text[], $12::text[],
           $13::bigint[], $14::jsonb[]) WHERE EXISTS (SELECT 1 FROM moved)
         ON CONFLICT (hash) DO NOTHING
       ), log AS (
         INSERT INTO reflog (name, old_head, new_head, at, operation)
         SELECT $1, l.o, l.n, $15, $16 FROM unnest($17::text[], $18::text[]) WITH ORDINALITY AS l(o, n, i)
         WHERE EXISTS (SELECT 1 FROM moved) ORDER BY l.i
       )
       SELECT (SELECT count(*) FROM moved)::int AS moved, r.kind, r.sealed
       FROM (SELECT 1) AS one LEFT JOIN refs r ON r.name = $1`,
      [
        u.name,
        u.expectedHead,
        u.newHead,
        objects.map((o) => o.hash),
        objects.map((o) => Buffer.from(o.data)),
        commits.map((c) => c.hash),
        commits.map((c) => JSON.stringify(c.parents)),
        commits.map((c) => c.tree),
        commits.map((c) => JSON.stringify(c.overlay)),
        commits.map((c) => c.generation),
        commits.map((c) => c.author),
        commits.map((c) => c.message),
        commits.map((c) => c.timestamp),
        commits.map((c) => JSON.stringify(c.properties)),
        u.at,
        u.operation,
        moves.map((m) => m.from),
        moves.map((m) => m.to),
      ],
    )
    const row = rows[0]
    if (row === undefined || row.moved === 1) return row === undefined ? 'missing' : 'ok'
    if (row.kind === null) return 'missing'
    if (row.kind !== 'branch') return 'not-branch'
    if (row.sealed) return 'sealed'
    return 'moved'
  }

  /** One statement, as {@link updateBranch}: the reflog row is written only when the ref was deleted. */
  async deleteRef(name: string, kind: RefKind, at: number, expectedHead?: string): Promise<boolean> {
    const rows = await this.#q<{ deleted: number }>(
      'write',
      `WITH gone AS (
         DELETE FROM refs WHERE name = $1 AND kind = $2 AND ($3::text IS NULL OR head = $3) RETURNING head
       ), log AS (
         INSERT INTO reflog (name, old_head, new_head, at, operation) SELECT $1, head, NULL, $4, $5 FROM gone
       )
       SELECT count(*)::int AS deleted FROM gone`,
      [name, kind, expectedHead ?? null, at, `delete ${kind}`],
    )
    return rows[0]?.deleted === 1
  }

  async renameRef(from: string, to: string, at: number): Promise<'ok' | 'missing' | 'exists'> {
    return this.#tx('write', async (c) => {
      const row = (await c.query<RefRow>('SELECT * FROM refs WHERE name = $1 FOR UPDATE', [from])).rows[0]
      if (!row) return 'missing' as const
      const clash = await c.query(
        'INSERT INTO refs (name, kind, head, sealed, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING',
        [to, row.kind, row.head, row.sealed, row.created_at],
      )
      if (clash.rowCount !== 1) return 'exists' as const
      await c.query('DELETE FROM refs WHERE name = $1', [from])
      await this.#log(c, from, row.head, null, at, `rename to ${to}`)
      await this.#log(c, to, null, row.head, at, `rename from ${from}`)
      return 'ok' as const
    })
  }

  async sealBranch(name: string, at: number): Promise<boolean> {
    return this.#tx('write', async (c) => {
      const r = await c.query("UPDATE refs SET sealed = TRUE WHERE name = $1 AND kind = 'branch'", [name])
      if (r.rowCount === 1) await this.#log(c, name, null, null, at, 'seal')
      return r.rowCount === 1
    })
  }

  async reflog(name: string): Promise<ReflogEntry[]> {
    const rows = await this.#q<{
      name: string
      old_head: string | null
      new_head: string | null
      at: string
      operation: string
    }>('read', 'SELECT * FROM reflog WHERE name = $1 ORDER BY id', [name])
    return rows.map((r) => ({
      name: r.name,
      oldHead: r.old_head,
      newHead: r.new_head,
      at: Number(r.at),
      operation: r.operation,
    }))
  }

  async listRecords(kind: string): Promise<AdminRecord[]> {
    return this.#q<AdminRecord>(
      'read',
      'SELECT kind, id, value FROM admin_records WHERE kind = $1 ORDER BY id',
      [kind],
    )
  }

  async getRecord(kind: string, id: string): Promise<AdminRecord | undefined> {
    const rows = await this.#q<AdminRecord>(
      'read',
      'SELECT kind, id, value FROM admin_records WHERE kind = $1 AND id = $2',
      [kind, id],
    )
    return rows[0]
  }

  async insertRecord(record: AdminRecord): Promise<boolean> {
    const rows = await this.#q<{ id: string }>(
      'write',
      'INSERT INTO admin_records (kind, id, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id',
      [record.kind, record.id, record.value],
    )
    return rows.length > 0
  }

  async deleteRecord(kind: string, id: string): Promise<boolean> {
    const rows = await this.#q<{ id: string }>(
      'write',
      'DELETE FROM admin_records WHERE kind = $1 AND id = $2 RETURNING id',
      [kind, id],
    )
    return rows.length > 0
  }

  async close(): Promise<void> {
    const pool = this.#pool
    this.#closed = true
    if (pool) await (await pool).end()
  }
}
