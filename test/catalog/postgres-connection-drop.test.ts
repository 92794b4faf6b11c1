import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresBackend } from '../../src/catalog/backends/postgres.js'
import type { RefInfo } from '../../src/catalog/types.js'
import { PgCutProxy } from '../crash/pg-cut-proxy.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'

const pgUrl = await postgresUrl()

const tag = (name: string): RefInfo => ({
  name,
  kind: 'tag',
  head: 'b'.repeat(64),
  sealed: false,
  createdAt: 1,
})

describe.skipIf(pgUrl === undefined)(
  'PostgresBackend when the database connection drops mid-transaction',
  () => {
    let proxy: PgCutProxy
    beforeAll(async () => {
      proxy = await PgCutProxy.start(pgUrl as string)
    })
    afterAll(async () => {
      await proxy?.close()
    })

    it('fails the call with CATALOG_ERROR (no uncaught error event), rolls back, and reconnects for the next call', async () => {
      const url = freshSchemaUrl(pgUrl as string, 'pgdrop')
      const direct = PostgresBackend.open(url)
      const backend = PostgresBackend.open(proxy.urlOf(url), { maxConnections: 1 })
      try {
        await direct.migrate()
        await backend.getMeta('warm-up')
        proxy.arm('before-commit')
        await expect(backend.createRef(tag('lost'), 'test')).rejects.toMatchObject({ code: 'CATALOG_ERROR' })
        expect(proxy.disarm()).toBe('before-commit')
        expect(await direct.getRef('lost')).toBeUndefined()
        proxy.revive()
        // The broken connection is not handed out again: the next transaction runs on a new one.
        expect(await backend.createRef(tag('kept'), 'test')).toBe(true)
        expect((await direct.getRef('kept'))?.head).toBe('b'.repeat(64))
      } finally {
        await backend.close().catch(() => undefined)
        await direct.close()
        const admin = new pg.Client({ connectionString: pgUrl as string })
        await admin.connect()
        await admin.query(`DROP SCHEMA IF EXISTS "${new URL(url).searchParams.get('schema')}" CASCADE`)
        await admin.end()
      }
    })
  },
)
