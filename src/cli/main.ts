import { Command, CommanderError } from 'commander'
import { asTarnError, exitCodeFor, oneLine, TarnError } from '../util/errors.js'
import { registerBranchCommands } from './commands/branch.js'
import { registerGcCommands } from './commands/gc.js'
import { registerHistoryCommands } from './commands/history.js'
import { registerJobCommands } from './commands/job.js'
import { registerLakeCommands } from './commands/lake.js'
import { registerNamespaceCommands } from './commands/namespace.js'
import { registerQueryCommands } from './commands/query.js'
import { registerRunCommands } from './commands/run.js'
import { registerSimCommands } from './commands/sim.js'
import { registerTableCommands } from './commands/table.js'
import { type CliContext, createContext } from './context.js'
import { environmentHelp } from './environment.js'
import { type CliIO, processIO } from './io.js'

/**
 * Builds the `tarn` command tree.
 *
 * @example
 * ```ts
 * await buildProgram(createContext(processIO())).parseAsync(['node', 'tarn', 'branch', 'ls'])
 * ```
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('tarn')
    .description('tarn: a code-first lakehouse with Git semantics for data')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.out(s),
      writeErr: (s) => ctx.io.err(s),
      outputError: () => undefined,
    })
  program.addHelpText('after', environmentHelp())
  registerLakeCommands(program, ctx)
  registerBranchCommands(program, ctx)
  registerHistoryCommands(program, ctx)
  registerNamespaceCommands(program, ctx)
  registerTableCommands(program, ctx)
  registerRunCommands(program, ctx)
  registerJobCommands(program, ctx)
  registerQueryCommands(program, ctx)
  registerGcCommands(program, ctx)
  registerSimCommands(program, ctx.io)
  for (const c of allCommands(program)) c.exitOverride().configureOutput(program.configureOutput())
  return program
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((s) => [s, ...allCommands(s)])
}

function toTarnError(e: unknown): TarnError {
  if (e instanceof TarnError) return e
  if (e instanceof CommanderError)
    return new TarnError('USAGE', e.message.replace(/^error: /, ''), { commander: e.code })
  return asTarnError(e)
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the exit code: 0 success, 2 usage, 3 not
 * found, 4 conflict, 5 failed run or expectation, 1 other. Errors print one line on stderr and, with `--json`, a
 * `{"error":{code,message,context}}` document on stdout.
 *
 * @example
 * ```ts
 * const code = await main(['branch', 'ls', '--json'])
 * ```
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const ctx = createContext(io)
  const json = argv.includes('--json')
  try {
    if (argv.length === 0) {
      buildProgram(ctx).outputHelp()
      return 2
    }
    await buildProgram(ctx).parseAsync([...argv], { from: 'user' })
    return 0
  } catch (e) {
    if (
      e instanceof CommanderError &&
      (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version')
    ) {
      return 0
    }
    if (e instanceof CommanderError && e.code === 'commander.help') return 0
    const err = toTarnError(e)
    io.err(`error: ${oneLine(err.message)}\n`)
    if (err.code === 'INTERNAL' && io.env.TARN_DEBUG && e instanceof Error) io.err(`${e.stack}\n`)
    if (json) io.out(`${JSON.stringify({ error: err.toJSON() })}\n`)
    return exitCodeFor(err.code)
  } finally {
    await ctx.close()
  }
}
