import type { Command } from 'commander'
import { shortHash } from '../../catalog/commit.js'
import { TarnError } from '../../util/errors.js'
import type { CliContext } from '../context.js'
import { commitJson, commitLine, emit, type OutputOptions, refJson, table } from '../output.js'

function positiveInt(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0)
    throw new TarnError('USAGE', `expected a positive integer, got ${JSON.stringify(v)}`)
  return n
}

/**
 * Registers `tarn log`, `tarn revert` and `tarn tag ls|create|rm`.
 *
 * @example
 * ```ts
 * registerHistoryCommands(program, ctx)
 * ```
 */
export function registerHistoryCommands(program: Command, ctx: CliContext): void {
  program
    .command('log')
    .description('commit history, newest first')
    .argument('[ref]', 'branch, tag or commit (default: the active branch)')
    .option('-n, --limit <n>', 'show at most n commits', positiveInt)
    .option('--message <text>', 'only commits whose message contains text')
    .option('--author <text>', 'only commits whose author contains text')
    .option('--property <key[=value]>', 'only commits with this property')
    .option('--json', 'print JSON')
    .action(
      async (
        ref: string | undefined,
        o: OutputOptions & { limit?: number; message?: string; author?: string; property?: string },
      ) => {
        const lake = await ctx.lake()
        const prop = o.property?.split('=')
        const commits = await lake.log(ref, {
          ...(o.limit ? { limit: o.limit } : {}),
          ...(o.message ? { message: o.message } : {}),
          ...(o.author ? { author: o.author } : {}),
          ...(prop?.[0]
            ? { property: { key: prop[0], ...(prop.length > 1 ? { value: prop.slice(1).join('=') } : {}) } }
            : {}),
        })
        emit(ctx.io, o, { ref: ref ?? lake.activeBranch(), commits: commits.map(commitJson) }, () =>
          commits.map(commitLine).join('\n'),
        )
      },
    )

  program
    .command('revert')
    .description('undo a whole commit with a new commit')
    .argument('<commit>', 'commit hash or ref')
    .option('--on <branch>', 'branch to write the revert on (default: the active branch)')
    .option('-b, --branch <branch>', 'same as --on')
    .option('--table <table>', 'revert only this table (prints a warning for multi-table commits)')
    .option('--json', 'print JSON')
    .action(async (commit: string, o: OutputOptions & { on?: string; branch?: string; table?: string }) => {
      const lake = await ctx.lake()
      const on = o.on ?? o.branch
      const r = await lake.revert(commit, { ...(on ? { on } : {}), ...(o.table ? { table: o.table } : {}) })
      if (r.warning) ctx.io.err(`warning: ${r.warning}\n`)
      emit(
        ctx.io,
        o,
        { ...r, commit: commitJson(r.commit) },
        () =>
          `Reverted ${shortHash(r.reverted)} with ${shortHash(r.commit.hash)} (${[...r.tables, ...r.namespaces.map((n) => `namespace ${n}`)].join(', ')})`,
      )
    })

  const tag = program.command('tag').description('list, create and delete tags')
  tag
    .command('ls')
    .description('list tags')
    .option('--json', 'print JSON')
    .action(async (o: OutputOptions) => {
      const tags = await (await ctx.lake()).listTags()
      emit(ctx.io, o, { tags: tags.map((t) => refJson(t)) }, () =>
        table(tags.map((t) => [t.name, shortHash(t.head)])),
      )
    })
  tag
    .command('create')
    .description('create a tag (a pointer that never moves)')
    .argument('<tag>')
    .option('--from-ref <ref>', 'commit to tag (default: the active branch)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: OutputOptions & { fromRef?: string }) => {
      const ref = await (await ctx.lake()).createTag(name, o.fromRef ? { from: o.fromRef } : {})
      emit(ctx.io, o, { tag: refJson(ref) }, () => `Created tag ${name} at ${shortHash(ref.head)}`)
    })
  tag
    .command('rm')
    .description('delete a tag')
    .argument('<tag>')
    .option('--json', 'print JSON')
    .action(async (name: string, o: OutputOptions) => {
      const ref = await (await ctx.lake()).deleteTag(name)
      emit(ctx.io, o, { deleted: refJson(ref) }, () => `Deleted tag ${name} (was ${shortHash(ref.head)})`)
    })
}
