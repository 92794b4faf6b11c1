import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { parseRequirement } from '../../iceberg/commit/table-requirement.js'
import { parseTableUpdate } from '../../iceberg/commit/table-update.js'
import type { PartitionSpec, SortOrder } from '../../iceberg/partition-spec.js'
import type { Schema } from '../../iceberg/schema.js'
import type { IcebergTableCommit } from '../../lake/iceberg-catalog.js'
import { TarnError } from '../../util/errors.js'
import type { JsonObject, JsonValue } from '../../util/lossless-json.js'
import {
  commitTableResult,
  type IcebergContext,
  icebergOf,
  loadTableResult,
  namespaceOf,
  page,
  sendJson,
} from './iceberg-context.js'

type TableParams = { Params: { namespace: string; table: string } }

function objectOf(v: JsonValue | undefined, what: string): JsonObject {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) {
    throw new TarnError('USAGE', `${what} must be an object`, {})
  }
  return v as JsonObject
}

function stringsOf(v: JsonValue | undefined, what: string): Record<string, string> {
  if (v === undefined || v === null) return {}
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(objectOf(v, what))) {
    if (typeof x !== 'string') throw new TarnError('USAGE', `${what}.${k} must be a string`, {})
    out[k] = x
  }
  return out
}

/** `namespace.name` of a REST `TableIdentifier` (`{"namespace": ["sales"], "name": "orders"}`). */
function identifierOf(v: JsonValue | undefined): string {
  const o = objectOf(v, 'identifier')
  const ns = o.namespace
  if (!Array.isArray(ns) || !ns.every((l) => typeof l === 'string') || typeof o.name !== 'string') {
    throw new TarnError('USAGE', 'an identifier needs namespace (a list of strings) and name', {})
  }
  return `${namespaceOf(ns as string[])}.${o.name}`
}

/**
 * One table's commit from a REST `CommitTableRequest` body.
 */
export function tableCommitOf(table: string, body: JsonValue | undefined): IcebergTableCommit {
  const o = objectOf(body, 'the commit request')
  const requirements = o.requirements ?? []
  const updates = o.updates ?? []
  if (!Array.isArray(requirements) || !Array.isArray(updates)) {
    throw new TarnError('USAGE', 'requirements and updates must be lists', {})
  }
  return {
    table,
    requirements: (requirements as JsonValue[]).map(parseRequirement),
    updates: (updates as JsonValue[]).map(parseTableUpdate),
  }
}

/** The table name of a path, as tarn names tables (`INVALID_NAME` otherwise). */
function tableKeyOf(namespace: string, table: string): string {
  return `${namespaceOf(namespace)}.${table}`
}

/**
 * The Iceberg REST table endpoints: list (paging), create (and `stage-create`), load (`snapshots=all|refs`, ETag and
 * `If-None-Match` → 304), exists (HEAD), drop (purge or not: files stay for other commits; gc removes the rest),
 * rename, register, commit (requirements + updates: one tarn commit), multi-table transactions (one tarn commit, all
 * or nothing), metrics (accepted and dropped).
 */
export function tableRoutes(app: FastifyInstance, ic: IcebergContext): void {
  app.get<{ Params: { namespace: string }; Querystring: { pageToken?: string; pageSize?: string } }>(
    '/namespaces/:namespace/tables',
    async (req) => {
      const ref = ic.ref(req)
      await ic.ctx.authorize(req, [{ action: 'read', ref }])
      const ns = namespaceOf(req.params.namespace)
      const { items, next } = page(await icebergOf(ic, req).listTables(ref, ns), req.query)
      return {
        identifiers: items.map((name) => ({ namespace: [ns], name })),
        ...(next !== undefined ? { 'next-page-token': next } : {}),
      }
    },
  )

  app.post<{ Params: { namespace: string }; Body: JsonValue }>(
    '/namespaces/:namespace/tables',
    async (req, reply) => {
      const ref = ic.ref(req)
      await ic.ctx.authorize(req, [{ action: 'write', ref }])
      const body = objectOf(req.body, 'the create-table request')
      if (typeof body.name !== 'string') throw new TarnError('USAGE', 'name must be a string', {})
      const schema = objectOf(body.schema, 'schema')
      if (!Array.isArray(schema.fields)) throw new TarnError('USAGE', 'schema.fields must be a list', {})
      const table = await icebergOf(ic, req).createTable(
        ref,
        tableKeyOf(req.params.namespace, body.name),
        {
          schema: { ...(schema as unknown as Schema), type: 'struct' },
          ...(typeof body.location === 'string' ? { location: body.location } : {}),
          ...(body['partition-spec']
            ? {
                partitionSpec: objectOf(body['partition-spec'], 'partition-spec') as unknown as PartitionSpec,
              }
            : {}),
          ...(body['write-order']
            ? { sortOrder: objectOf(body['write-order'], 'write-order') as unknown as SortOrder }
            : {}),
          properties: stringsOf(body.properties, 'properties'),
        },
        { stage: body['stage-create'] === true },
      )
      if (table.metadataLocation !== undefined) ic.log(`iceberg create table ${table.table} on ${ref}`)
      return sendJson(reply, 200, loadTableResult(table, {}))
    },
  )

  app.head<TableParams>('/namespaces/:namespace/tables/:table', async (req, reply) => {
    const ref = ic.ref(req)
    await ic.ctx.authorize(req, [{ action: 'read', ref }])
    const key = tableKeyOf(req.params.namespace, req.params.table)
    if (!(await icebergOf(ic, req).tableState(ref, key))) {
      throw new TarnError('TABLE_NOT_FOUND', `table ${key} does not exist at ${ref}`, { table: key, ref })
    }
    return reply.code(204).send()
  })

  app.get<TableParams & { Querystring: { snapshots?: string } }>(
    '/namespaces/:namespace/tables/:table',
    async (req, reply) => {
      const ref = ic.ref(req)
      await ic.ctx.authorize(req, [{ action: 'read', ref }])
      const mode = req.query.snapshots ?? 'all'
      if (mode !== 'all' && mode !== 'refs') {
        throw new TarnError('USAGE', `snapshots must be all or refs, got ${mode}`, {})
      }
      const iceberg = icebergOf(ic, req)
      const key = tableKeyOf(req.params.namespace, req.params.table)
      const state = await iceberg.tableState(ref, key)
      if (!state)
        throw new TarnError('TABLE_NOT_FOUND', `table ${key} does not exist at ${ref}`, { table: key, ref })
      const etag = `"${createHash('sha256').update(`${state.metadataLocation}|${mode}`).digest('hex').slice(0, 32)}"`
      reply.header('etag', etag)
      const match = req.headers['if-none-match']
      if (match?.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
        return reply.code(304).send()
      }
      const table = await iceberg.loadTable(ref, key, state)
      return sendJson(reply, 200, loadTableResult(table, iceberg.storageConfig(), { snapshots: mode }))
    },
  )

  app.post<TableParams & { Body: JsonValue }>('/namespaces/:namespace/tables/:table', async (req, reply) => {
    const ref = ic.ref(req)
    await ic.ctx.authorize(req, [{ action: 'write', ref }])
    const key = tableKeyOf(req.params.namespace, req.params.table)
    const result = await icebergOf(ic, req).commitTables(ref, [tableCommitOf(key, req.body)])
    const t = result.tables[0]
    if (!t) throw new TarnError('INTERNAL', 'the commit returned no table', {})
    ic.log(
      `iceberg commit ${key} on ${ref} -> ${result.commit.hash.slice(0, 12)}` +
        (result.attempts > 1 ? ` (rebuilt ${result.attempts - 1}x after concurrent commits)` : ''),
    )
    return sendJson(reply, 200, commitTableResult(t))
  })

  app.delete<TableParams & { Querystring: { purgeRequested?: string } }>(
    '/namespaces/:namespace/tables/:table',
    async (req, reply) => {
      const ref = ic.ref(req)
      await ic.ctx.authorize(req, [{ action: 'write', ref }])
      const key = tableKeyOf(req.params.namespace, req.params.table)
      await icebergOf(ic, req).dropTable(ref, key)
      ic.log(`iceberg drop table ${key} on ${ref}`)
      return reply.code(204).send()
    },
  )

  app.post<{ Params: { namespace: string }; Body: JsonValue }>(
    '/namespaces/:namespace/register',
    async (req, reply) => {
      const ref = ic.ref(req)
      const body = objectOf(req.body, 'the register request')
      const location = body['metadata-location']
      if (typeof body.name !== 'string' || typeof location !== 'string') {
        throw new TarnError('USAGE', 'name and metadata-location must be strings', {})
      }
      await ic.ctx.authorize(req, [{ action: 'write', ref }])
      const iceberg = icebergOf(ic, req)
      // reading a metadata file elsewhere on the server's disk needs an admin key, as imports from paths do
      if (!location.startsWith(`${iceberg.warehouse}/`) && !/^s3[an]?:\/\//i.test(location)) {
        await ic.ctx.authorize(req, [{ action: 'admin' }])
      }
      const table = await icebergOf(ic, req).registerTable(
        ref,
        tableKeyOf(req.params.namespace, body.name),
        location,
        {
          overwrite: body.overwrite === true,
        },
      )
      return sendJson(reply, 200, loadTableResult(table, {}))
    },
  )

  app.post<TableParams>('/namespaces/:namespace/tables/:table/metrics', async (req, reply) => {
    await ic.ctx.authorize(req, [{ action: 'read', ref: ic.ref(req) }])
    return reply.code(204).send()
  })

  app.post<{ Body: JsonValue }>('/tables/rename', async (req, reply) => {
    const ref = ic.ref(req)
    await ic.ctx.authorize(req, [{ action: 'write', ref }])
    const body = objectOf(req.body, 'the rename request')
    const from = identifierOf(body.source)
    const to = identifierOf(body.destination)
    await icebergOf(ic, req).renameTable(ref, from, to)
    ic.log(`iceberg rename table ${from} to ${to} on ${ref}`)
    return reply.code(204).send()
  })

  app.post<{ Body: JsonValue }>('/transactions/commit', async (req, reply) => {
    const ref = ic.ref(req)
    await ic.ctx.authorize(req, [{ action: 'write', ref }])
    const changes = objectOf(req.body, 'the transaction')['table-changes']
    if (!Array.isArray(changes) || changes.length === 0) {
      throw new TarnError('USAGE', 'table-changes must be a non-empty list', {})
    }
    const commits = (changes as JsonValue[]).map((c) =>
      tableCommitOf(identifierOf(objectOf(c, 'a table change').identifier), c),
    )
    const result = await icebergOf(ic, req).commitTables(ref, commits)
    ic.log(
      `iceberg transaction ${commits.map((c) => c.table).join(', ')} on ${ref} -> ${result.commit.hash.slice(0, 12)}`,
    )
    return reply.code(204).send()
  })
}
