import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, ROOT } from '../../helpers/build.js'
import { pyicebergPython } from '../../helpers/pyiceberg.js'
import { tarnCli } from '../../run/lake-cli.js'
import { type ServedProcess, startServe } from '../served-process.js'

const run = promisify(execFile)
const python = pyicebergPython()
const SCRIPT = join(ROOT, 'test', 'fixtures', 'iceberg-rest', 'pyiceberg_client.py')

type Row = { id: number; amount: number; note?: string | null }

describe.runIf(python)('PyIceberg against tarn serve (the Iceberg REST catalog on branches)', () => {
  let home: string
  let server: ServedProcess | undefined
  let url = ''
  /** What the server logged so far (Iceberg writes, refused requests). */
  const serverLog = (): string => server?.stderr() ?? ''
  let writer = ''
  let reader = ''
  let writerToken = ''

  /** Runs one step of the Python client; resolves with its JSON, or with the process failure. */
  const client = async (
    step: string,
    warehouse: string,
    credential: string,
    ...args: string[]
  ): Promise<Record<string, unknown>> => {
    const { stdout } = await run(
      python as string,
      [SCRIPT, step, `${url}/iceberg`, warehouse, credential, ...args],
      {
        timeout: 120_000,
      },
    )
    return JSON.parse(stdout) as Record<string, unknown>
  }
  const failure = async (step: string, warehouse: string, credential: string): Promise<string> => {
    try {
      await client(step, warehouse, credential)
    } catch (e) {
      return String((e as { stderr?: string }).stderr ?? e)
    }
    throw new Error(`${step} at ${warehouse} succeeded`)
  }
  const queryRows = async (ref: string): Promise<Row[]> => {
    const r = await tarnCli(
      home,
      'query',
      '-r',
      ref,
      '--json',
      'SELECT id, amount FROM sales.orders ORDER BY id',
    )
    expect(r.exit, r.stderr).toBe(0)
    return (JSON.parse(r.stdout) as { rows: Row[] }).rows.map((x) => ({
      id: Number(x.id),
      amount: Number(x.amount),
    }))
  }

  beforeAll(async () => {
    ensureBuilt()
    home = mkdtempSync(join(tmpdir(), 'tarn-iceberg-rest-'))
    expect((await tarnCli(home, 'init')).exit).toBe(0)
    expect((await tarnCli(home, 'branch', 'create', 'dev')).exit).toBe(0)
    const key = async (name: string, rule: string): Promise<string> => {
      const r = await tarnCli(home, 'key', 'create', name, '--allow', rule, '--json')
      const token = (JSON.parse(r.stdout) as { token: string }).token
      writerToken = name === 'spark' ? token : writerToken
      return token.replace('.', ':')
    }
    writer = await key('spark', 'write:*')
    reader = await key('analyst', 'read:*')
    server = await startServe({ TARN_HOME: home })
    url = server.url
  }, 120_000)

  afterAll(async () => {
    await server?.stop()
  })

  it('creates a namespace and a table on dev with an OAuth2 credential, appends two batches and reads them back; tarn query -r dev agrees, main lacks the table until the merge, the added column shows in tarn table get', async () => {
    const written = (await client('write', 'dev', writer)) as {
      rows: Row[]
      snapshots: number
      columns: string[]
      namespaces: string[][]
      tables: string[][]
    }
    const expected = [
      { id: 1, amount: 1.5 },
      { id: 2, amount: 2.5 },
      { id: 3, amount: 3.5 },
    ]
    expect(written.rows).toEqual(expected)
    expect(written.snapshots).toBe(2)
    expect(written.columns).toEqual(['id', 'amount', 'note'])
    expect(written.namespaces).toContainEqual(['sales'])
    expect(written.tables).toEqual([['sales', 'orders']])
    expect(await queryRows('dev')).toEqual(expected)

    const details = await tarnCli(home, 'table', 'get', 'sales.orders', '-r', 'dev', '--json')
    const table = JSON.parse(details.stdout) as {
      schema: { name: string; id: number }[]
      snapshots: unknown[]
    }
    expect(table.schema.map((f) => f.name)).toEqual(['id', 'amount', 'note'])
    expect(table.snapshots).toHaveLength(2)
    const log = await tarnCli(home, 'log', 'dev', '--json')
    const { commits } = JSON.parse(log.stdout) as { commits: { author: string; message: string }[] }
    expect(commits.filter((c) => c.message.includes('(append)')).map((c) => c.author)).toEqual([
      'spark',
      'spark',
    ])

    expect((await tarnCli(home, 'table', 'get', 'sales.orders', '-r', 'main', '--json')).exit).toBe(3)
    expect(await failure('read', 'main', writer)).toContain('NoSuchTableError')
    expect((await tarnCli(home, 'branch', 'merge', 'dev', '--into', 'main')).exit).toBe(0)
    expect(((await client('read', 'main', reader)) as { rows: Row[] }).rows).toEqual(
      expected.map((r) => ({ ...r, note: null })),
    )
  }, 180_000)

  it('exchanges an API key for a signed token at /v1/oauth/tokens, accepts that token as the key, and refuses a wrong secret', async () => {
    const [id, secret] = writer.split(':') as [string, string]
    const ask = (clientSecret: string) =>
      fetch(`${url}/iceberg/v1/oauth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: id,
          client_secret: clientSecret,
          scope: 'catalog',
        }).toString(),
      })
    const good = await ask(secret)
    expect(good.status).toBe(200)
    const body = (await good.json()) as { access_token: string; token_type: string; expires_in: number }
    expect(body.token_type).toBe('bearer')
    expect(body.expires_in).toBeGreaterThan(0)
    expect(body.access_token).not.toContain(secret)
    const config = await fetch(`${url}/iceberg/v1/config?warehouse=dev`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    })
    expect(config.status).toBe(200)
    expect(((await config.json()) as { overrides: { prefix: string } }).overrides.prefix).toBe('dev')
    const bad = await ask(`${secret}x`)
    expect(bad.status).toBe(401)
    expect(((await bad.json()) as { error: string }).error).toBe('invalid_client')
    const forged = await fetch(`${url}/iceberg/v1/config`, {
      headers: { authorization: `Bearer ${body.access_token.slice(0, -2)}xx` },
    })
    expect(forged.status).toBe(401)
    expect(((await forged.json()) as { error: { type: string } }).error.type).toBe('NotAuthorizedException')
    expect(serverLog()).not.toContain(secret)
  })

  it('keeps all 16 appends of two clients appending 8 times each to one table of one branch, the 409s they retried in the server log', async () => {
    const logBefore = serverLog().length
    const [a, b] = (await Promise.all([
      client('append', 'dev', writer, '8', '1000'),
      client('append', 'dev', writer, '8', '2000'),
    ])) as { retries: number }[]
    const ids = (await queryRows('dev')).map((r) => r.id)
    const appended = [...Array(8).keys()].flatMap((i) => [1000 + i, 2000 + i])
    expect(ids).toEqual([1, 2, 3, ...appended.sort((x, y) => x - y)])
    const details = JSON.parse(
      (await tarnCli(home, 'table', 'get', 'sales.orders', '-r', 'dev', '--json')).stdout,
    ) as {
      snapshots: { operation: string }[]
      dataFiles: number
    }
    expect(details.snapshots.filter((s) => s.operation === 'append')).toHaveLength(18)
    expect(details.dataFiles).toBe(18)
    // PyIceberg retries a commit that got 409 itself (commit.retry.num-retries) before the script sees it: every
    // retry, its own or the script's, follows a 409 the server logged
    const conflicts =
      serverLog()
        .slice(logBefore)
        .match(/-> 409 CommitFailedException: requirement failed/g) ?? []
    expect(conflicts.length).toBeGreaterThanOrEqual((a?.retries ?? 0) + (b?.retries ?? 0))
    console.log(`concurrent appends: ${conflicts.length} conflicts answered 409 and retried`)
  }, 300_000)

  it('commits a multi-table transaction as one tarn commit, and one whose requirement fails changes neither table', async () => {
    const auth = { authorization: `Bearer ${writerToken}`, 'content-type': 'application/json' }
    const created = await fetch(`${url}/iceberg/v1/dev/namespaces/sales/tables`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        name: 'items',
        schema: { type: 'struct', fields: [{ id: 7, name: 'sku', type: 'string', required: false }] },
      }),
    })
    expect(created.status).toBe(200)
    const load = async (t: string) =>
      (await (
        await fetch(`${url}/iceberg/v1/dev/namespaces/sales/tables/${t}`, { headers: auth })
      ).json()) as {
        'metadata-location': string
        metadata: {
          'table-uuid': string
          properties: Record<string, string>
          schemas: { fields: { id: number }[] }[]
        }
      }
    const [orders, items] = [await load('orders'), await load('items')]
    expect(items.metadata.schemas[0]?.fields[0]?.id).toBe(1)
    const head = async () =>
      (JSON.parse((await tarnCli(home, 'log', 'dev', '--json')).stdout) as { commits: { hash: string }[] })
        .commits[0]
    const before = await head()
    const transaction = (schemaId: number) =>
      fetch(`${url}/iceberg/v1/dev/transactions/commit`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          'table-changes': [
            {
              identifier: { namespace: ['sales'], name: 'orders' },
              requirements: [{ type: 'assert-table-uuid', uuid: orders.metadata['table-uuid'] }],
              updates: [{ action: 'set-properties', updates: { owner: 'ops' } }],
            },
            {
              identifier: { namespace: ['sales'], name: 'items' },
              requirements: [{ type: 'assert-current-schema-id', 'current-schema-id': schemaId }],
              updates: [{ action: 'set-properties', updates: { owner: 'ops' } }],
            },
          ],
        }),
      })
    const refused = await transaction(5)
    expect(refused.status).toBe(409)
    expect(((await refused.json()) as { error: { type: string } }).error.type).toBe('CommitFailedException')
    expect((await load('orders'))['metadata-location']).toBe(orders['metadata-location'])
    expect((await load('items'))['metadata-location']).toBe(items['metadata-location'])
    expect(await head()).toEqual(before)

    expect((await transaction(0)).status).toBe(204)
    const log = (
      JSON.parse((await tarnCli(home, 'log', 'dev', '--json', '-n', '2')).stdout) as {
        commits: { parents: string[]; properties: Record<string, string> }[]
      }
    ).commits
    expect(log[0]?.parents).toEqual([before?.hash])
    expect(log[0]?.properties['tarn.table']).toBe('sales.orders,sales.items')
    expect((await load('orders')).metadata.properties.owner).toBe('ops')
    expect((await load('items')).metadata.properties.owner).toBe('ops')
  }, 120_000)

  it('merges appends PyIceberg made on main and on dev meanwhile as combined appends, like any tarn write', async () => {
    const devRows = (await queryRows('dev')).length
    await client('append', 'main', writer, '1', '7000')
    await client('append', 'dev', writer, '1', '8000')
    const merged = await tarnCli(home, 'branch', 'merge', 'dev', '--into', 'main', '--json')
    expect(merged.exit, merged.stderr + merged.stdout).toBe(0)
    const ids = (await queryRows('main')).map((r) => r.id)
    expect(ids).toContain(7000)
    expect(ids).toContain(8000)
    expect(ids).toHaveLength(devRows + 2)
  }, 120_000)

  it('reads at a tag and a commit but refuses writes there, and answers 403 to a write with a read:* key', async () => {
    const rowsOnDev = (await queryRows('dev')).length
    expect((await tarnCli(home, 'tag', 'create', 'v1', '--from-ref', 'dev')).exit).toBe(0)
    const hash = (
      JSON.parse((await tarnCli(home, 'log', 'dev', '--json', '-n', '1')).stdout) as {
        commits: { hash: string }[]
      }
    ).commits[0]?.hash as string
    const atTag = (await client('read', 'v1', reader)) as { rows: Row[] }
    expect(atTag.rows).toHaveLength(rowsOnDev)
    expect(((await client('read', `@${hash.slice(0, 12)}`, reader)) as { rows: Row[] }).rows).toHaveLength(
      rowsOnDev,
    )
    for (const ref of ['v1', `dev@${hash.slice(0, 12)}`]) {
      const r = (await client('create-ns', ref, writer, 'blocked')) as {
        ok: boolean
        error: string
        message: string
      }
      expect(r.ok).toBe(false)
      expect(r.error).toBe('ForbiddenError')
      expect(r.message).toContain('read-only')
    }
    const denied = (await client('append-one', 'dev', reader)) as {
      ok: boolean
      error: string
      message: string
    }
    expect(denied).toMatchObject({ ok: false, error: 'ForbiddenError' })
    expect(denied.message).toContain('write:dev')
    expect(await queryRows('dev')).toHaveLength(rowsOnDev)
    expect((await tarnCli(home, 'namespace', 'ls', '-r', 'dev', '--json')).stdout).not.toContain('blocked')
  }, 120_000)
})
