import type { Command } from 'commander'
import { parseDuration } from '../../lake/garbage-collector.js'
import { ApiKeyStore } from '../../server/auth/api-key-store.js'
import { serve } from '../../server/serve.js'
import { TarnError } from '../../util/errors.js'
import type { CliContext } from '../context.js'
import { emit, type OutputOptions, table } from '../output.js'

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

interface ServeFlags {
  host: string
  port: string
  maxRuns?: number
  maxImports?: number
  maxResultRows?: number
  maxResultBytes?: number
}

function count(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new TarnError('USAGE', `expected a positive integer, got ${JSON.stringify(v)}`, { value: v })
  return Number(v)
}

/**
 * Registers `tarn serve [--host H] [--port P] [--max-runs N] [--max-imports N] [--max-result-rows N]
 * [--max-result-bytes N]` (the HTTP API until SIGTERM or SIGINT, then drains and closes the
 * lake) and `tarn key create|ls|rm` (API keys; the secret is printed once).
 */
export function registerServeCommands(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description(
      'serve the lake over HTTP: /api/v1, the OpenAPI document at /api/openapi.json and the Iceberg REST catalog at /iceberg',
    )
    .option('--host <host>', 'address to listen on (off loopback it needs API keys)', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', '8181')
    .option('--max-runs <n>', 'pipeline runs at once; one more gets 429 TOO_MANY_REQUESTS (default 4)', count)
    .option('--max-imports <n>', 'table creates and imports at once (default 4)', count)
    .option('--max-result-rows <n>', 'refuse query results with more rows (RESULT_TOO_LARGE, 413)', count)
    .option('--max-result-bytes <n>', 'refuse query results and exports with more bytes', count)
    .option('--json', 'print the URL as JSON')
    .action(async (o: OutputOptions & ServeFlags) => {
      if (!/^\d+$/.test(o.port) || Number(o.port) > 65535) {
        throw new TarnError('USAGE', `--port must be a port number, got ${o.port}`, { port: o.port })
      }
      const lake = await ctx.localLake('serve')
      // jobs a killed server left running: runs are sealed as failed (or confirmed landed), imports marked failed
      for (const j of await lake.settleInterruptedJobs()) {
        ctx.io.err(
          j.kind === 'run'
            ? `run ${j.id} was interrupted by the end of its process: ${j.status === 'failed' ? `marked failed, run branch ${j.runBranch} sealed` : 'it had landed, marked succeeded'}\n`
            : `${j.kind} ${j.id} was interrupted by the end of its process: marked failed\n`,
        )
      }
      const keys = new ApiKeyStore(lake.catalog.backend, { clock: lake.clock, random: lake.random })
      const running = await serve({
        lake,
        keys,
        host: o.host,
        port: Number(o.port),
        version: (await lake.info()).version,
        limits: {
          ...(o.maxRuns !== undefined ? { maxConcurrentRuns: o.maxRuns } : {}),
          ...(o.maxImports !== undefined ? { maxConcurrentImports: o.maxImports } : {}),
          ...(o.maxResultRows !== undefined ? { maxResultRows: o.maxResultRows } : {}),
          ...(o.maxResultBytes !== undefined ? { maxResultBytes: o.maxResultBytes } : {}),
        },
        log: (line) => ctx.io.err(`${line}\n`),
        // one log line per query result: how it ended and how much was sent (never the SQL, which may hold data)
        onQueryEnd: (e) =>
          ctx.io.err(
            `query ${e.cancelled ? 'cancelled' : 'done'} at ${JSON.stringify(e.ref)}: ${e.rows} rows in ${e.batches} batches (${e.format})\n`,
          ),
      })
      emit(
        ctx.io,
        o,
        {
          url: running.url,
          api: `${running.url}/api/v1`,
          openapi: `${running.url}/api/openapi.json`,
          iceberg: `${running.url}/iceberg`,
        },
        () =>
          `tarn serving ${lake.config.home} at ${running.url} (API ${running.url}/api/v1, OpenAPI ${running.url}/api/openapi.json, Iceberg REST catalog ${running.url}/iceberg)`,
      )
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGTERM', stop)
          process.off('SIGINT', stop)
          resolve()
        }
        process.on('SIGTERM', stop)
        process.on('SIGINT', stop)
      })
      ctx.io.err('draining in-flight requests ...\n')
      await running.close()
      ctx.io.err('stopped\n')
    })

  const key = program.command('key').description('API keys of the server: create, list, delete')

  key
    .command('create')
    .description('create an API key and print its secret (shown once)')
    .argument('<name>', 'the key name (the author of commits made with it)')
    .option(
      '--allow <rule>',
      'read|write|merge|admin:<branch glob>, e.g. read:* or write:alice.* (repeatable)',
      collect,
    )
    .option('--expires <duration>', 'lifetime, e.g. 90d')
    .option('--json', 'print JSON')
    .action(async (name: string, o: OutputOptions & { allow?: string[]; expires?: string }) => {
      const lake = await ctx.localLake('key create')
      const keys = new ApiKeyStore(lake.catalog.backend, { clock: lake.clock, random: lake.random })
      const { key: k, token } = await keys.create(name, {
        rules: o.allow ?? [],
        ...(o.expires !== undefined ? { expiresInMs: parseDuration(o.expires) } : {}),
      })
      emit(ctx.io, o, { key: k, token }, () =>
        [
          `Created key ${k.name} (${k.rules.join(', ')})${k.expiresAt ? `, expires ${k.expiresAt}` : ''}`,
          'Secret (shown once; send it as Authorization: Bearer <secret>):',
          token,
        ].join('\n'),
      )
    })

  key
    .command('ls')
    .description('list API keys (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (o: OutputOptions) => {
      const lake = await ctx.localLake('key ls')
      const list = await new ApiKeyStore(lake.catalog.backend, {
        clock: lake.clock,
        random: lake.random,
      }).list()
      emit(ctx.io, o, { keys: list }, () =>
        table(
          list.map((k) => [k.name, k.id, k.rules.join(' '), k.expiresAt ? `expires ${k.expiresAt}` : '']),
        ),
      )
    })

  key
    .command('rm')
    .description('delete an API key; requests with it are refused from then on')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, o: OutputOptions) => {
      const lake = await ctx.localLake('key rm')
      const k = await new ApiKeyStore(lake.catalog.backend, {
        clock: lake.clock,
        random: lake.random,
      }).remove(name)
      emit(ctx.io, o, { deleted: k }, () => `Deleted key ${k.name}`)
    })
}
