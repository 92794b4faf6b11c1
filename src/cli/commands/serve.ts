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

/**
 * Registers `tarn serve [--host H] [--port P]` (the HTTP API until SIGTERM or SIGINT, then drains and closes the
 * lake) and `tarn key create|ls|rm` (API keys; the secret is printed once).
 *
 * @example
 * ```ts
 * registerServeCommands(program, ctx)
 * ```
 */
export function registerServeCommands(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('serve the lake over HTTP: /api/v1 and the OpenAPI document at /api/openapi.json')
    .option('--host <host>', 'address to listen on (off loopback it needs API keys)', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', '8181')
    .option('--json', 'print the URL as JSON')
    .action(async (o: OutputOptions & { host: string; port: string }) => {
      if (!/^\d+$/.test(o.port) || Number(o.port) > 65535) {
        throw new TarnError('USAGE', `--port must be a port number, got ${o.port}`, { port: o.port })
      }
      const lake = await ctx.lake()
      const keys = new ApiKeyStore(lake.catalog.backend, { clock: lake.clock, random: lake.random })
      const running = await serve({
        lake,
        keys,
        host: o.host,
        port: Number(o.port),
        version: (await lake.info()).version,
        // one log line per query result: how it ended and how much was sent (never the SQL, which may hold data)
        onQueryEnd: (e) =>
          ctx.io.err(
            `query ${e.cancelled ? 'cancelled' : 'done'} at ${JSON.stringify(e.ref)}: ${e.rows} rows in ${e.batches} batches (${e.format})\n`,
          ),
      })
      emit(
        ctx.io,
        o,
        { url: running.url, api: `${running.url}/api/v1`, openapi: `${running.url}/api/openapi.json` },
        () =>
          `tarn serving ${lake.config.home} at ${running.url} (API ${running.url}/api/v1, OpenAPI ${running.url}/api/openapi.json)`,
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
      const lake = await ctx.lake()
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
      const lake = await ctx.lake()
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
      const lake = await ctx.lake()
      const k = await new ApiKeyStore(lake.catalog.backend, {
        clock: lake.clock,
        random: lake.random,
      }).remove(name)
      emit(ctx.io, o, { deleted: k }, () => `Deleted key ${k.name}`)
    })
}
