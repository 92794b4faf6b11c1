import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { LakeTableInfo, PlanLakeState } from '../../pipeline/lake-state.js'
import { planProject } from '../../pipeline/plan-project.js'
import { pipelinePlanJson, renderPlan } from '../../pipeline/plan-render.js'
import { isTarnError, TarnError } from '../../util/errors.js'
import type { CliContext } from '../context.js'
import { emit } from '../output.js'

interface RunOptions {
  project?: string
  ref?: string
  dryRun?: boolean
  strict?: boolean
  param?: string[]
  select?: string[]
  json?: boolean
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

function parseParams(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of items) {
    const eq = item.indexOf('=')
    if (eq <= 0)
      throw new TarnError('USAGE', `--param expects name=value, got ${JSON.stringify(item)}`, { param: item })
    out[item.slice(0, eq).trim()] = item.slice(eq + 1)
  }
  return out
}

/**
 * Registers `tarn run [-p DIR] [-r BRANCH] [--dry-run] [--strict] [--param k=v ...] [--select SEL] [--json]`. In
 * this release only `--dry-run` works: it loads and validates the project against the lake at the ref and prints the
 * plan (ASCII DAG, scans, levels) or its JSON; nothing is materialised.
 *
 * @example
 * ```ts
 * registerRunCommands(program, ctx)
 * await program.parseAsync(['run', '--dry-run', '-p', 'examples/taxi'], { from: 'user' })
 * ```
 */
export function registerRunCommands(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run a pipeline project on a branch (this release: --dry-run prints the plan)')
    .option('-p, --project <dir>', 'project directory (default: the working directory)')
    .option('-r, --ref <branch>', 'branch to run on (default: the active branch)')
    .option('--dry-run', 'plan only: print the DAG, scans and steps; materialise nothing')
    .option('--strict', 'treat warnings as errors')
    .option('--param <name=value>', 'set a parameter (repeatable)', collect)
    .option('--select <selector>', 'narrow the graph: name, name+, +name, tag:daily (repeatable)', collect)
    .option('--json', 'print JSON')
    .action(async (o: RunOptions) => {
      if (!o.dryRun)
        throw new TarnError(
          'NOT_IMPLEMENTED',
          'tarn run executes pipelines in a later release; use --dry-run to see the plan',
        )
      const dir = resolve(ctx.io.cwd, o.project ?? '.')
      const params = parseParams(o.param ?? [])
      const lake = await ctx.lake()
      const ref = o.ref ?? lake.activeBranch()
      const planned = await planProject(dir, {
        params,
        ref,
        ...(o.select ? { select: o.select } : {}),
        lake: async (tables) => {
          const state: Record<string, LakeTableInfo> = {}
          for (const key of tables) {
            try {
              const t = await lake.getTable(key, { ref })
              state[t.table] = {
                columns: t.schema.map((f) => f.name),
                partitionColumns: t.partitionSpec.map((p) => p.sourceColumn),
              }
            } catch (e) {
              if (!isTarnError(e, 'TABLE_NOT_FOUND')) throw e
            }
          }
          const lakeState: PlanLakeState = { tables: state }
          return lakeState
        },
      })
      for (const w of planned.warnings) ctx.io.err(`warning: ${w.message}\n`)
      if (o.strict && planned.warnings.length > 0) {
        const first = planned.warnings[0] as TarnError
        throw new TarnError(first.code, `${first.message} (--strict)`, first.context)
      }
      const physical = planned.physical
      emit(
        ctx.io,
        o,
        {
          dryRun: true,
          plan: pipelinePlanJson(physical),
          warnings: planned.warnings.map((w) => w.toJSON()),
        },
        () => renderPlan(physical),
      )
    })
}
