import { resolve } from 'node:path'
import type { Command } from 'commander'
import { scaffoldProject } from '../../pipeline/scaffold-project.js'
import type { CliContext } from '../context.js'
import { emit, type OutputOptions } from '../output.js'

/**
 * Registers `tarn new <dir> [--json]`: scaffolds a pipeline project (a SQL model, a TS model, an expectation, a
 * `tsconfig.json` for editors) in a new or empty directory.
 *
 * @example
 * ```ts
 * registerNewCommand(program, ctx)
 * await program.parseAsync(['new', 'my-project'], { from: 'user' })
 * ```
 */
export function registerNewCommand(program: Command, ctx: CliContext): void {
  program
    .command('new')
    .description('create a pipeline project in a new or empty directory')
    .argument('<dir>', 'the directory to create')
    .option('--json', 'print JSON')
    .action(async (dir: string, o: OutputOptions) => {
      const p = await scaffoldProject(resolve(ctx.io.cwd, dir))
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
