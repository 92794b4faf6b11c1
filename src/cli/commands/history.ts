import type { Command } from 'commander'
import { shortHash } from '../../catalog/commit.js'
import type { RevertStep } from '../../catalog/results.js'
import { TarnError } from '../../util/errors.js'
import type { CliContext } from '../context.js'
import { diffBody } from '../diff-text.js'
import { commitJson, commitLine, emit, type OutputOptions, refJson, table } from '../output.js'

function nonNegativeInt(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0)
    throw new TarnError('USAGE', `expected a non-negative integer, got ${JSON.stringify(v)}`)
  return n
}

function revertStepText(st: RevertStep): string {
  const what = `${st.kind} ${st.name}`
  switch (st.action) {
    case 'restore':
      return `restore ${what} to its state before the commit`
    case 'drop':
      return `drop ${what} (the commit created it)`
    case 'already-undone':
      return `${what} is already back to its state before the commit`
    case 'remove-appended-files':
      return `remove the ${st.removedFiles ?? 0} data file(s) (${st.removedRecords ?? 0} rows) the commit appended to ${st.name}, keeping later appends`
  }
}

function positiveInt(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0)
    throw new TarnError('USAGE', `expected a positive integer, got ${JSON.stringify(v)}`)
  return n
}

/**
 * Registers `tarn log`, `tarn revert` and `tarn tag ls|create|rm`.
 */
export function registerHistoryCommands(program: Command, ctx: CliContext): void {
  program
    .command('log')
    .description('commit history, newest first')
    .argument('[ref]', 'branch, tag or commit (default: the active branch)')
    .option('-n, --limit <n>', 'show at most n commits', positiveInt)
    .option('--first-parent', "follow only first parents: the branch's own commits and its merge commits")
    .option('-p, --patch', 'show what each commit changed against its first parent')
    .option(
      '--rows <n>',
      'with -p: show up to n rows added and removed per table (reads data files)',
      nonNegativeInt,
    )
    .option('--message <text>', 'only commits whose message contains text')
    .option('--author <text>', 'only commits whose author contains text')
    .option('--property <key[=value]>', 'only commits with this property')
    .option('--json', 'print JSON')
    .action(
      async (
        ref: string | undefined,
        o: OutputOptions & {
          limit?: number
          firstParent?: boolean
          patch?: boolean
          rows?: number
          message?: string
          author?: string
          property?: string
        },
      ) => {
        const lake = await ctx.lake()
        const prop = o.property?.split('=')
        const filters = {
          ...(o.limit ? { limit: o.limit } : {}),
          ...(o.firstParent ? { firstParent: true } : {}),
          ...(o.message ? { message: o.message } : {}),
          ...(o.author ? { author: o.author } : {}),
          ...(prop?.[0]
            ? { property: { key: prop[0], ...(prop.length > 1 ? { value: prop.slice(1).join('=') } : {}) } }
            : {}),
        }
        const name = ref ?? lake.activeBranch()
        if (!o.patch) {
          const commits = await lake.log(ref, filters)
          emit(ctx.io, o, { ref: name, commits: commits.map(commitJson) }, () =>
            commits.map(commitLine).join('\n'),
          )
          return
        }
        const commits = await lake.log(ref, {
          ...filters,
          patch: true,
          ...(o.rows !== undefined ? { rows: o.rows } : {}),
        })
        emit(
          ctx.io,
          o,
          { ref: name, commits: commits.map((c) => ({ ...commitJson(c), diff: c.diff })) },
          () =>
            commits
              .map((c) => {
                const body = diffBody(c.diff)
                return [
                  commitLine(c),
                  ...(body.length > 0 ? body : ['  (no changes)']).map((l) => `    ${l}`),
                ].join('\n')
              })
              .join('\n\n'),
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
    .option('-m, --message <msg>', 'message of the revert commit')
    .option('--dry-run', 'show what the revert would change and write nothing')
    .option('--json', 'print JSON')
    .action(
      async (
        commit: string,
        o: OutputOptions & {
          on?: string
          branch?: string
          table?: string
          message?: string
          dryRun?: boolean
        },
      ) => {
        const lake = await ctx.lake()
        const on = o.on ?? o.branch
        const where = { ...(on ? { on } : {}), ...(o.table ? { table: o.table } : {}) }
        if (o.dryRun) {
          const plan = await lake.revert(commit, { ...where, dryRun: true })
          if (plan.warning) ctx.io.err(`warning: ${plan.warning}\n`)
          emit(ctx.io, o, { dryRun: true, ...plan }, () =>
            [
              `Would revert ${shortHash(plan.reverted)} on ${plan.branch} (head ${shortHash(plan.head)}):`,
              ...plan.steps.map((st) => `  ${revertStepText(st)}`),
            ].join('\n'),
          )
          return
        }
        const r = await lake.revert(commit, { ...where, ...(o.message ? { message: o.message } : {}) })
        if (r.warning) ctx.io.err(`warning: ${r.warning}\n`)
        emit(
          ctx.io,
          o,
          { ...r, commit: commitJson(r.commit) },
          () =>
            `Reverted ${shortHash(r.reverted)} with ${shortHash(r.commit.hash)} (${[...r.tables, ...r.namespaces.map((n) => `namespace ${n}`)].join(', ')})`,
        )
      },
    )

  const tag = program.command('tag').description('list, create and delete tags')
  tag
    .command('ls', { isDefault: true })
    .description('list tags (also `tarn tag` alone)')
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
