import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { CliContext } from '../context.js'
import { emit, type OutputOptions } from '../output.js'

/**
 * Registers `tarn new <dir> [--json]`: scaffolds a pipeline project (a SQL model, a TS model, an expectation, a
 * `tsconfig.json` for editors) in a new or empty directory.
 */
export function registerNewCommand(program: Command, ctx: CliContext): void {
  program
    .command('new')
    .description('create a pipeline project in a new or empty directory')
    .argument('<dir>', 'the directory to create')
    .option('--json', 'print JSON')
    .action(async (dir: string, o: OutputOptions) => {
      // Scaffolding needs no open lake, only the façade's static method (the catalog driver stays unloaded).
      const { Lake } = await import('../../lake/lake.js')
      const p = await Lake.newProject(resolve(ctx.io.cwd, dir))
      emit(ctx.io, o, p, () =>
        [
          `Created project ${p.name} in ${p.dir}`,
          ...p.files.map((f) => `  ${f}`),
          '',
          `Next: tarn run -p ${dir} --dry-run   (the plan), then tarn run -p ${dir}`,
        ].join('\n'),
      )
    })
}
