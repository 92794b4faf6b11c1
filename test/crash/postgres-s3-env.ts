import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3'
import pg from 'pg'
import { PostgresBackend } from '../../src/catalog/backends/postgres.js'
import { Lake } from '../../src/lake/lake.js'
import { S3ObjectStore } from '../../src/storage/s3.js'
import type { TestS3Server } from '../helpers/s3-server.js'
import { type ConnectionCutter, FaultBackend } from './fault-backend.js'
import { FaultStore, type RealTransients } from './fault-store.js'
import type { CutMode, PgCutProxy } from './pg-cut-proxy.js'
import type { RequestMatcher, S3FaultProxy } from './s3-fault-proxy.js'
import type { OperationKind, SimEnvironment, SimEnvironmentFactory } from './simulation.js'

/** The catalog tables of a PostgreSQL lake schema (see `PostgresBackend`). */
const TABLES = ['meta', 'objects', 'commits', 'refs', 'reflog'] as const

/**
 * Options of {@link postgresS3Environment}.
 *
 * @example
 * ```ts
 * const options: PostgresS3Options = { pgUrl: 'postgres://tarn:tarn@127.0.0.1:5432/tarn', s3, proxy }
 * ```
 */
export interface PostgresS3Options {
  /** The PostgreSQL server (the template, the copies and the checker connect to it directly). */
  readonly pgUrl: string
  /** The S3 server the warehouses live on. */
  readonly s3: TestS3Server
  /**
   * When given, the simulated process reaches PostgreSQL through this proxy: a catalog `crash` or `ack-lost` really
   * cuts its connections at the commit point, and every crash drops all of them.
   */
  readonly proxy?: PgCutProxy
  /**
   * When given, the simulated process reaches S3 through this proxy: a transient store fault answers the faulted
   * I/O's next requests with a real 503 SlowDown, and the AWS SDK's retry runs.
   */
  readonly s3Proxy?: S3FaultProxy
}

/** Counts of one environment: catalog write faults and the real connection cuts they made, real 503 answers. */
interface CutFigures {
  faults: Record<CutMode, number>
  cuts: Record<CutMode, number>
  transients: number
  slowDowns: number
}

function withSchema(url: string, schema: string): string {
  const u = new URL(url)
  u.searchParams.set('schema', schema)
  return u.toString()
}

/**
 * The team environment: a PostgreSQL catalog and an S3 warehouse. The template is one schema and one S3 prefix; a
 * fault point's copy is a new schema filled from the template's tables, on the template's own S3 prefix restored to
 * the template's objects (table metadata holds absolute `s3://` URIs, so the warehouse cannot move to another prefix).
 *
 * @example
 * ```ts
 * await simulateOperation('commit', 42, 50, postgresS3Environment({ pgUrl, s3, proxy }))
 * ```
 */
export function postgresS3Environment(options: PostgresS3Options): SimEnvironmentFactory & {
  /** Catalog write faults and real connection cuts, per operation kind. */
  readonly figures: Map<OperationKind, CutFigures>
} {
  const { pgUrl, s3, proxy, s3Proxy } = options
  const figures = new Map<OperationKind, CutFigures>()
  const factory = async (kind: OperationKind): Promise<SimEnvironment> => {
    const id = `crash_${kind}_${process.pid}_${Date.now().toString(36)}`
    const template = `${id}_t`
    const home = mkdtempSync(join(tmpdir(), `tarn-crash-${kind}-`))
    const warehouse = `s3://${s3.bucket}/${id}`
    const openStore = (endpoint = s3.endpoint): S3ObjectStore =>
      S3ObjectStore.create({
        bucket: s3.bucket,
        prefix: id,
        endpoint,
        region: s3.region,
        credentials: s3.credentials,
      })
    const admin = new pg.Client({ connectionString: pgUrl })
    await admin.connect()
    const mine: CutFigures = {
      faults: { 'before-commit': 0, 'after-commit': 0 },
      cuts: { 'before-commit': 0, 'after-commit': 0 },
      transients: 0,
      slowDowns: 0,
    }
    figures.set(kind, mine)
    const cutter: ConnectionCutter | undefined = proxy && {
      async cutAt(mode, run) {
        mine.faults[mode]++
        proxy.arm(mode)
        await run().catch(() => undefined)
        if (proxy.disarm() === mode) mine.cuts[mode]++
        proxy.cut()
      },
    }
    const real: RealTransients | undefined = s3Proxy && {
      failNext(event, burst) {
        mine.transients++
        const key = event.key ?? ''
        const match: RequestMatcher =
          event.op === 'list'
            ? (_method, url) => url.searchParams.get('prefix') === `${id}/${key}`
            : (_method, url) => decodeURIComponent(url.pathname) === `/${s3.bucket}/${id}/${key}`
        const before = s3Proxy.slowDowns
        const forget = s3Proxy.failNext(match, burst)
        return () => {
          forget()
          mine.slowDowns += s3Proxy.slowDowns - before
        }
      },
    }
    /** The template warehouse: key → ETag and bytes. */
    let snapshot = new Map<string, { etag: string; data: Uint8Array }>()
    let copies = 0

    const listing = async (store: S3ObjectStore): Promise<Map<string, string>> => {
      const out = new Map<string, string>()
      let ContinuationToken: string | undefined
      do {
        const res: ListObjectsV2CommandOutput = await store.client.send(
          new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${id}/`, ContinuationToken }),
        )
        for (const o of res.Contents ?? []) {
          if (o.Key) out.set(o.Key.slice(id.length + 1), o.ETag ?? '')
        }
        ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined
      } while (ContinuationToken !== undefined)
      return out
    }

    /** Brings the warehouse prefix back to the template's objects: deletes new ones, rewrites changed or missing ones. */
    const restoreWarehouse = async (): Promise<void> => {
      const store = openStore()
      try {
        const now = await listing(store)
        const work: Promise<void>[] = []
        for (const [key, etag] of now) {
          const want = snapshot.get(key)
          if (!want) work.push(store.delete(key))
          else if (want.etag !== etag) work.push(store.put(key, want.data))
        }
        for (const [key, want] of snapshot) if (!now.has(key)) work.push(store.put(key, want.data))
        await Promise.all(work)
      } finally {
        await store.close()
      }
    }

    const copySchema = async (schema: string): Promise<void> => {
      const sql = [`CREATE SCHEMA "${schema}"`]
      for (const t of TABLES) {
        sql.push(`CREATE TABLE "${schema}".${t} (LIKE "${template}".${t} INCLUDING ALL)`)
        sql.push(`INSERT INTO "${schema}".${t} SELECT * FROM "${template}".${t}`)
      }
      await admin.query(sql.join(';\n'))
    }

    return {
      atomicStoreWrites: true,
      ...(proxy ? { onCrash: () => proxy.cut() } : {}),
      initTemplate: (o) =>
        Lake.init({
          home,
          env: {},
          catalogUrl: withSchema(pgUrl, template),
          warehouse,
          store: openStore(),
          ...o,
        }),
      async sealTemplate() {
        const store = openStore()
        try {
          const keys = await listing(store)
          const entries = await Promise.all(
            [...keys].map(async ([key, etag]) => [key, { etag, data: await store.get(key) }] as const),
          )
          snapshot = new Map(entries)
        } finally {
          await store.close()
        }
      },
      async openCopy(_name, injector, o) {
        const schema = `${id}_${copies++}`
        await Promise.all([restoreWarehouse(), copySchema(schema)])
        proxy?.revive()
        const url = withSchema(proxy ? proxy.urlOf(pgUrl) : pgUrl, schema)
        const backend = new FaultBackend(PostgresBackend.open(url), injector, cutter)
        const store = new FaultStore(openStore(s3Proxy?.endpoint), injector, real)
        const lake = await Lake.open({ home, env: {}, backend, store, ...o })
        return {
          lake,
          async settled() {
            await Promise.all([backend.settled(), store.settled()])
          },
          reopen: () =>
            Lake.open({
              home,
              env: {},
              catalogUrl: withSchema(pgUrl, schema),
              store: openStore(),
              author: 'checker',
            }),
          async dispose() {
            await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
          },
        }
      },
      figures() {
        const cuts = proxy
          ? `real connection cuts: before-commit=${mine.cuts['before-commit']}/${mine.faults['before-commit']} after-commit=${mine.cuts['after-commit']}/${mine.faults['after-commit']}`
          : 'catalog faults above the backend (no connection proxy)'
        const slow = s3Proxy
          ? `real 503 SlowDown answers=${mine.slowDowns} for ${mine.transients} transient store faults`
          : 'store transients above the SDK (no S3 proxy)'
        return `${cuts}, ${slow}`
      },
      async close() {
        try {
          snapshot = new Map()
          await restoreWarehouse()
          await admin.query(`DROP SCHEMA IF EXISTS "${template}" CASCADE`)
        } finally {
          await admin.end()
          rmSync(home, { recursive: true, force: true })
        }
      },
    }
  }
  return Object.assign(factory, { figures })
}
