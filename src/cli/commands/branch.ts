import type { Command } from 'commander'
import { shortHash } from '../../catalog/commit.js'
import type { MergeResult } from '../../catalog/results.js'
import { parseDuration } from '../../lake/garbage-collector.js'
import { TarnError } from '../../util/errors.js'
import type { CliContext } from '../context.js'
import { diffText } from '../diff-text.js'
import { commitJson, emit, type OutputOptions, refJson, table } from '../output.js'

function mergeText(r: MergeResult): string {
  const what = [
    r.changes.tables.length > 0 ? `tables: ${r.changes.tables.join(', ')}` : '',
    r.changes.namespaces.length > 0 ? `namespaces: ${r.changes.namespaces.join(', ')}` : '',
    r.changes.combined.length > 0 ? `combined appends: ${r.changes.combined.join(', ')}` : '',
  ].filter(Boolean)
  const pre = r.dryRun ? 'Would ' : ''
  const head = (() => {
    switch (r.kind) {
      case 'up-to-date':
        return `${r.target.branch} is already up to date with ${r.source.ref}`
      case 'fast-forward':
        return `${pre}${r.dryRun ? 'fast-forward' : 'Fast-forwarded'} ${r.target.branch} ${shortHash(r.target.before)} -> ${shortHash(r.source.hash)}`
      case 'merge':
        return r.dryRun
          ? `Would merge ${r.source.ref} into ${r.target.branch} with a merge commit`
          : `Merged ${r.source.ref} into ${r.target.branch}: ${shortHash(r.target.after)}`
      case 'conflict':
        return `Merging ${r.source.ref} into ${r.target.branch} would conflict on ${r.conflicts.map((c) => c.name).join(', ')}`
    }
  })()
  return [head, ...what.map((w) => `  ${w}`)].join('\n')
}

function nonNegativeInt(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0)
    throw new TarnError('USAGE', `expected a non-negative integer, got ${JSON.stringify(v)}`)
  return n
}

/**
 * Registers `tarn branch ls|create|rm|get|diff|rename|merge` (`tarn branch` alone lists).
 */
export function registerBranchCommands(program: Command, ctx: CliContext): void {
  const branch = program.command('branch').description('list, create, delete, compare and merge branches')

  branch
    .command('ls', { isDefault: true })
    .description('list branches (also `tarn branch` alone)')
    .option('--json', 'print JSON')
    .action(async (o: OutputOptions) => {
      const lake = await ctx.lake()
      const active = lake.activeBranch()
      const refs = await lake.listBranches()
      emit(ctx.io, o, { branches: refs.map((r) => refJson(r, { active: r.name === active })) }, () =>
        table(
          refs.map((r) => [
            r.name === active ? '*' : ' ',
            r.name,
            shortHash(r.head),
            r.sealed ? 'sealed' : '',
          ]),
        ),
      )
    })

  branch
    .command('create')
    .description('create a branch (O(1), copies no data)')
    .argument('<branch>')
    .option('--from-ref <ref>', 'where the branch starts (default: the active branch)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: OutputOptions & { fromRef?: string }) => {
      const lake = await ctx.lake()
      const ref = await lake.createBranch(name, o.fromRef ? { from: o.fromRef } : {})
      emit(ctx.io, o, { branch: refJson(ref) }, () => `Created branch ${name} at ${shortHash(ref.head)}`)
    })

  branch
    .command('rm')
    .description('delete a branch, or with --sealed every sealed branch (failed runs)')
    .argument('[branch]')
    .option(
      '--force',
      'also delete the active branch (then main becomes active) or the branch of a running or failed run',
    )
    .option('--sealed', 'delete every sealed branch (failed runs kept for debugging) but the active one')
    .option('--older-than <duration>', 'with --sealed: only branches created longer ago than this (e.g. 7d)')
    .option('--dry-run', 'with --sealed: list what would be deleted and delete nothing')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string | undefined,
        o: OutputOptions & { force?: boolean; sealed?: boolean; olderThan?: string; dryRun?: boolean },
      ) => {
        if (o.sealed) {
          if (name !== undefined)
            throw new TarnError('USAGE', 'give a branch name or --sealed, not both', { branch: name })
          const r = await (await ctx.lake()).deleteSealedBranches({
            ...(o.olderThan !== undefined ? { olderThanMs: parseDuration(o.olderThan) } : {}),
            ...(o.dryRun ? { dryRun: true } : {}),
          })
          const verb = r.dryRun ? 'Would delete' : 'Deleted'
          emit(ctx.io, o, { dryRun: r.dryRun, deleted: r.deleted.map((b) => refJson(b)), kept: r.kept }, () =>
            [
              `${verb} ${r.deleted.length} sealed branch${r.deleted.length === 1 ? '' : 'es'}${r.kept > 0 ? ` (${r.kept} kept)` : ''}`,
              ...r.deleted.map(
                (b) => `  ${b.name}  ${shortHash(b.head)}  ${new Date(b.createdAt).toISOString()}`,
              ),
              ...(r.keptActive ? [`  kept ${r.keptActive}: it is the active branch`] : []),
            ].join('\n'),
          )
          return
        }
        if (o.olderThan !== undefined || o.dryRun)
          throw new TarnError('USAGE', '--older-than and --dry-run go with --sealed', {})
        if (name === undefined) throw new TarnError('USAGE', 'give the branch to delete, or --sealed', {})
        const ref = await (await ctx.lake()).deleteBranch(name, { force: o.force === true })
        if (ref.activeReset)
          ctx.io.err(`notice: deleted the active branch ${name}; the active branch is now main\n`)
        emit(
          ctx.io,
          o,
          { deleted: refJson(ref), activeBranch: ref.activeReset ? 'main' : undefined },
          () => `Deleted branch ${name} (was ${shortHash(ref.head)})`,
        )
      },
    )

  branch
    .command('get')
    .description('show a branch and its head commit')
    .argument('<branch>')
    .option('--json', 'print JSON')
    .action(async (name: string, o: OutputOptions) => {
      const b = await (await ctx.lake()).getBranch(name)
      emit(ctx.io, o, { branch: refJson(b, { commit: commitJson(b.commit) }) }, () =>
        [
          `branch ${b.name}${b.sealed ? ' (sealed)' : ''}`,
          `head   ${b.commit.hash}`,
          `author ${b.commit.author}`,
          `date   ${new Date(b.commit.timestamp).toISOString()}`,
          '',
          `    ${b.commit.message}`,
        ].join('\n'),
      )
    })

  branch
    .command('diff')
    .description(
      'what <a> changed since its merge base with <b> (default: the active branch); --two-way compares the two states',
    )
    .argument('<a>', 'ref to describe')
    .argument('[b]', 'ref to compare against')
    .option('--two-way', 'compare the two states as they are, not the changes on <a> since the merge base')
    .option('--rows <n>', 'show up to n rows added and removed per table (reads data files)', nonNegativeInt)
    .option('--json', 'print JSON')
    .action(
      async (a: string, b: string | undefined, o: OutputOptions & { twoWay?: boolean; rows?: number }) => {
        const d = await (await ctx.lake()).diff(a, b, {
          ...(o.twoWay ? { twoWay: true } : {}),
          ...(o.rows !== undefined ? { rows: o.rows } : {}),
        })
        emit(ctx.io, o, d, () => diffText(d))
      },
    )

  branch
    .command('rename')
    .description('rename a branch')
    .argument('<from>')
    .argument('<to>')
    .option('--json', 'print JSON')
    .action(async (from: string, to: string, o: OutputOptions) => {
      const ref = await (await ctx.lake()).renameBranch(from, to)
      emit(ctx.io, o, { from, branch: refJson(ref) }, () => `Renamed branch ${from} to ${to}`)
    })

  branch
    .command('protect')
    .description('protect a branch: only merges, no direct commits, no delete or rename')
    .argument('<branch>')
    .option('--json', 'print JSON')
    .action(async (name: string, o: OutputOptions) => {
      const ref = await (await ctx.lake()).protectBranch(name)
      emit(ctx.io, o, { branch: refJson(ref, { protected: true }) }, () => `Protected branch ${name}`)
    })

  branch
    .command('unprotect')
    .description("lift a branch's protection")
    .argument('<branch>')
    .option('--json', 'print JSON')
    .action(async (name: string, o: OutputOptions) => {
      const ref = await (await ctx.lake()).unprotectBranch(name)
      emit(ctx.io, o, { branch: refJson(ref, { protected: false }) }, () => `Unprotected branch ${name}`)
    })

  branch
    .command('merge')
    .description('merge a ref into a branch (fast-forward, else three-way)')
    .argument('<source>', 'branch, tag or commit to merge')
    .option('--into <branch>', 'target branch (default: the active branch)')
    .option('-m, --message <msg>', 'message of the merge commit')
    .option('--dry-run', 'show what would happen and change nothing')
    .option('--json', 'print JSON')
    .action(
      async (source: string, o: OutputOptions & { into?: string; message?: string; dryRun?: boolean }) => {
        const r = await (await ctx.lake()).merge(source, {
          ...(o.into ? { into: o.into } : {}),
          ...(o.message ? { message: o.message } : {}),
          ...(o.dryRun ? { dryRun: true } : {}),
        })
        if (r.kind === 'conflict') {
          if (!o.json) ctx.io.out(`${mergeText(r)}\n`)
          throw new TarnError('MERGE_CONFLICT', mergeText(r).split('\n')[0] ?? 'merge conflict', {
            source,
            target: r.target.branch,
            dryRun: true,
            tables: r.conflicts.filter((c) => c.kind === 'table').map((c) => c.name),
            conflicts: r.conflicts,
          })
        }
        emit(ctx.io, o, { ...r, commit: r.commit ? commitJson(r.commit) : undefined }, () => mergeText(r))
      },
    )
}
