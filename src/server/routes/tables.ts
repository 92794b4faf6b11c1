import type { FastifyInstance } from 'fastify'
import type { TableWriteResult } from '../../lake/lake.js'
import type { OperationEnd } from '../../lake/operation-job.js'
import type { AccessNeed } from '../auth/access-rules.js'
import type { RouteContext } from '../route-context.js'
import { BOOLEAN, object, params, STRING, STRINGS } from './schema.js'

/** Reading files from the server's own disk over HTTP needs an `admin:*` key; object-store URIs need only `write`. */
function sourceNeeds(from: string | readonly string[]): AccessNeed[] {
  const list = typeof from === 'string' ? [from] : from
  return list.some((s) => !/^s3:\/\//i.test(s)) ? [{ action: 'admin' }] : []
}

function sourceList(from: string | readonly string[]): string[] {
  return typeof from === 'string' ? [from] : [...from]
}

/** What an import job records when it lands: the commit and the rows it added. */
function importEnd(r: TableWriteResult): OperationEnd {
  return { dataCommit: r.commit.hash, rows: r.addedRecords, files: r.files }
}

/**
 * `/tables`: list, get, drop, create from files, import, register an existing Iceberg table. Creates and imports are
 * recorded as import jobs (as the CLI records its own), and at most `maxConcurrentImports` run at once.
 */
export function tableRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: { ref?: string; namespace?: string; stats?: boolean } }>(
    '/tables',
    {
      schema: {
        tags: ['tables'],
        summary: 'Tables at a ref; with stats=true each with its rows, data files and bytes',
        querystring: object({ ref: STRING, namespace: STRING, stats: BOOLEAN }),
      },
    },
    async (req) => {
      const ref = req.query.ref ?? ctx.active()
      await ctx.authorize(req, [{ action: 'read', ref }])
      const tables = await ctx.lake(req).listTables({
        ref,
        ...(req.query.namespace !== undefined ? { namespace: req.query.namespace } : {}),
        ...(req.query.stats === true ? { stats: true } : {}),
      })
      return { ref, tables }
    },
  )

  app.get<{ Params: { table: string }; Querystring: { ref?: string } }>(
    '/tables/:table',
    {
      schema: {
        tags: ['tables'],
        summary: 'Schema, partition spec, snapshots and size of a table',
        params: params('table'),
        querystring: object({ ref: STRING }),
      },
    },
    async (req) => {
      const ref = req.query.ref ?? ctx.active()
      await ctx.authorize(req, [{ action: 'read', ref }])
      return { table: await ctx.lake(req).getTable(req.params.table, { ref }) }
    },
  )

  app.delete<{ Params: { table: string }; Querystring: { branch?: string; message?: string } }>(
    '/tables/:table',
    {
      schema: {
        tags: ['tables'],
        summary: 'Drop a table from a branch',
        params: params('table'),
        querystring: object({ branch: STRING, message: STRING }),
      },
    },
    async (req) => {
      const branch = req.query.branch ?? ctx.active()
      await ctx.authorize(req, [{ action: 'write', ref: branch }])
      return {
        table: req.params.table,
        commit: await ctx.lake(req).dropTable(req.params.table, {
          branch,
          ...(req.query.message !== undefined ? { message: req.query.message } : {}),
        }),
      }
    },
  )

  app.post<{
    Body: {
      table: string
      from: string | string[]
      partitioned_by?: string
      branch?: string
      message?: string
    }
  }>(
    '/tables',
    {
      schema: {
        tags: ['tables'],
        summary: 'Create a table from files (Parquet, CSV, JSON lines) as the server sees them',
        body: object(
          { table: STRING, from: STRINGS, partitioned_by: STRING, branch: STRING, message: STRING },
          ['table', 'from'],
        ),
      },
    },
    async (req, reply) => {
      const branch = req.body.branch ?? ctx.active()
      await ctx.authorize(req, [{ action: 'write', ref: branch }, ...sourceNeeds(req.body.from)])
      const b = req.body
      const lake = ctx.lake(req)
      const release = ctx.gate.admit('import')
      try {
        const result = await lake.trackJob(
          { kind: 'import', target: branch, table: b.table, files: sourceList(b.from) },
          () =>
            lake.createTable(b.table, {
              from: b.from,
              branch,
              ...(b.partitioned_by !== undefined ? { partitionedBy: b.partitioned_by } : {}),
              ...(b.message !== undefined ? { message: b.message } : {}),
            }),
          importEnd,
        )
        return reply.code(201).send(result)
      } finally {
        release()
      }
    },
  )

  app.post<{
    Params: { table: string }
    Body: {
      from: string | string[]
      branch?: string
      force?: boolean
      replace?: boolean
      evolve_schema?: boolean
      message?: string
    }
  }>(
    '/tables/:table/import',
    {
      schema: {
        tags: ['tables'],
        summary: 'Append files to a table (or replace its rows)',
        params: params('table'),
        body: object(
          {
            from: STRINGS,
            branch: STRING,
            force: BOOLEAN,
            replace: BOOLEAN,
            evolve_schema: BOOLEAN,
            message: STRING,
          },
          ['from'],
        ),
      },
    },
    async (req) => {
      const branch = req.body.branch ?? ctx.active()
      await ctx.authorize(req, [{ action: 'write', ref: branch }, ...sourceNeeds(req.body.from)])
      const b = req.body
      const table = req.params.table
      const lake = ctx.lake(req)
      const release = ctx.gate.admit('import')
      try {
        return await lake.trackJob(
          { kind: 'import', target: branch, table, files: sourceList(b.from) },
          () =>
            lake.importTable(table, {
              from: b.from,
              branch,
              ...(b.force !== undefined ? { force: b.force } : {}),
              ...(b.replace !== undefined ? { replace: b.replace } : {}),
              ...(b.evolve_schema !== undefined ? { evolveSchema: b.evolve_schema } : {}),
              ...(b.message !== undefined ? { message: b.message } : {}),
            }),
          importEnd,
        )
      } finally {
        release()
      }
    },
  )

  app.post<{
    Params: { table: string }
    Body: { metadata: string; allow_moved_paths?: boolean; branch?: string; message?: string }
  }>(
    '/tables/:table/register',
    {
      schema: {
        tags: ['tables'],
        summary: 'Register an existing Iceberg table by its metadata file',
        params: params('table'),
        body: object({ metadata: STRING, allow_moved_paths: BOOLEAN, branch: STRING, message: STRING }, [
          'metadata',
        ]),
      },
    },
    async (req, reply) => {
      const branch = req.body.branch ?? ctx.active()
      await ctx.authorize(req, [{ action: 'write', ref: branch }, ...sourceNeeds(req.body.metadata)])
      const result = await ctx.lake(req).registerTable(req.params.table, {
        metadata: req.body.metadata,
        branch,
        ...(req.body.allow_moved_paths !== undefined ? { allowMovedPaths: req.body.allow_moved_paths } : {}),
        ...(req.body.message !== undefined ? { message: req.body.message } : {}),
      })
      return reply.code(201).send(result)
    },
  )
}
