import type { Command } from 'commander'
import type { CliContext } from '../context.js'
import { emit, type OutputOptions, refJson } from '../output.js'

/**
 * Registers `tarn init`, `tarn info` and `tarn checkout`.
 */
export function registerLakeCommands(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('create the lake if missing (idempotent)')
    .option('--json', 'print JSON')
    .action(async (o: OutputOptions) => {
      const lake = await ctx.lake({ create: true })
      const info = await lake.info()
      emit(
        ctx.io,
        o,
        info,
        () => `Lake ready at ${info.home} (catalog: ${info.catalog.backend}, warehouse: ${info.warehouse})`,
      )
    })

  program
    .command('info')
    .description('version, lake, catalog backend, warehouse, active branch')
    .option('--json', 'print JSON')
    .action(async (o: OutputOptions) => {
      const info = await (await ctx.lake()).info()
      emit(ctx.io, o, info, () =>
        [
          `tarn ${info.version}`,
          `lake:          ${info.home}`,
          `catalog:       ${info.catalog.backend} (${info.catalog.location})`,
          `warehouse:     ${info.warehouse}`,
          `active branch: ${info.activeBranch}`,
          `branches:      ${info.branches}, tags: ${info.tags}`,
        ].join('\n'),
      )
    })

  program
    .command('checkout')
    .description('set the active branch')
    .argument('<branch>', 'branch name')
    .option('-b, --create', 'create the branch first')
    .option('--from-ref <ref>', 'where a new branch starts (default: the active branch)')
    .option('--json', 'print JSON')
    .action(async (branch: string, o: OutputOptions & { create?: boolean; fromRef?: string }) => {
      const lake = await ctx.lake()
      const ref = await lake.checkout(branch, {
        ...(o.create ? { create: true } : {}),
        ...(o.fromRef ? { from: o.fromRef } : {}),
      })
      emit(ctx.io, o, { activeBranch: branch, branch: refJson(ref) }, () =>
        o.create ? `Switched to a new branch ${branch}` : `Switched to branch ${branch}`,
      )
    })
}
