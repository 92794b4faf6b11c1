import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresBackend } from '../../src/catalog/backends/postgres.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'
import { haveS3Server, startS3Server, type TestS3Server } from '../helpers/s3-server.js'
import { PgCutProxy } from './pg-cut-proxy.js'
import { postgresS3Environment } from './postgres-s3-env.js'
import { S3FaultProxy } from './s3-fault-proxy.js'
import { simulateOperation } from './simulation.js'
import { crashSeed, crashSuite } from './suite.js'

const FILE = 'test/crash/crash-simulation-postgres-s3.test.ts'
const pgUrl = await postgresUrl()

crashSuite(
  'crash simulation on a PostgreSQL catalog and an S3 warehouse (connections really cut at commit)',
  FILE,
  ['commit', 'merge', 'import', 'run'],
  {
    label: 'postgres+s3',
    skip: pgUrl === undefined || !haveS3Server(),
    budget: { commit: 60, merge: 16, import: 20, run: 24 },
    async environment() {
      const url = pgUrl as string
      const s3 = await startS3Server()
      const proxy = await PgCutProxy.start(url)
      const s3Proxy = await S3FaultProxy.start(s3.endpoint)
      return {
        factory: postgresS3Environment({ pgUrl: url, s3, proxy, s3Proxy }),
        async close() {
          await proxy.close()
          await s3Proxy.close()
          await s3.close()
        },
      }
    },
  },
)

describe.skipIf(pgUrl === undefined || !haveS3Server())(
  'the connection-cutting proxy in front of PostgreSQL',
  () => {
    let proxy: PgCutProxy
    let s3: TestS3Server
    beforeAll(async () => {
      proxy = await PgCutProxy.start(pgUrl as string)
      s3 = await startS3Server()
    }, 60_000)
    afterAll(async () => {
      await proxy?.close()
      await s3?.close()
    })

    it('rolls a transaction back when it cuts before COMMIT, and commits it unacknowledged when it cuts after', async () => {
      const url = freshSchemaUrl(pgUrl as string, 'crash_cut')
      const direct = PostgresBackend.open(url)
      await direct.migrate()
      const ref = (name: string) => ({
        name,
        kind: 'tag' as const,
        head: 'a'.repeat(64),
        sealed: false,
        createdAt: 1,
      })
      try {
        for (const [mode, name, stored] of [
          ['before-commit', 'rolled-back', false],
          ['after-commit', 'committed', true],
        ] as const) {
          proxy.revive()
          const faulty = PostgresBackend.open(proxy.urlOf(url))
          await faulty.getMeta('warmup')
          proxy.arm(mode)
          await expect(faulty.createRef(ref(name), 'test')).rejects.toThrow(
            /Connection terminated|ECONNRESET|closed/,
          )
          expect(proxy.disarm()).toBe(mode)
          await faulty.close().catch(() => undefined)
          expect((await direct.getRef(name)) !== undefined).toBe(stored)
          // The proxy refuses the dead process's new connections until revived.
          const late = PostgresBackend.open(proxy.urlOf(url))
          await expect(late.getMeta('x')).rejects.toThrow()
          await late.close().catch(() => undefined)
        }
        // An auto-committed write (no BEGIN) is cut at its Sync.
        proxy.revive()
        const faulty = PostgresBackend.open(proxy.urlOf(url))
        proxy.arm('before-commit')
        await expect(faulty.initMeta('k', 'v')).rejects.toThrow()
        await faulty.close().catch(() => undefined)
        expect(await direct.getMeta('k')).toBeUndefined()
      } finally {
        const admin = new pg.Client({ connectionString: pgUrl as string })
        await admin.connect()
        await admin.query(`DROP SCHEMA IF EXISTS "${new URL(url).searchParams.get('schema')}" CASCADE`)
        await admin.end()
        await direct.close()
      }
    }, 30_000)

    it('a seed replays the exact same fault schedule on PostgreSQL and S3, I/O hit by I/O hit', async () => {
      const seed = crashSeed()
      const env = postgresS3Environment({ pgUrl: pgUrl as string, s3, proxy })
      const a = await simulateOperation('import', seed, 6, env)
      const b = await simulateOperation('import', seed, 6, env)
      const trace = (r: typeof a): string[] =>
        r.points.map((p) => `${p.k}:${p.kind}:${p.burst ?? 1}:${p.hit}:${p.failed}:${p.violations.length}`)
      expect(trace(b)).toEqual(trace(a))
      expect(a.ios).toBe(b.ios)
      expect(a.points.length).toBe(6)
    }, 120_000)
  },
)
