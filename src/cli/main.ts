import { Command, CommanderError, Help } from 'commander'
import { asTarnError, exitCodeFor, oneLine, TarnError } from '../util/errors.js'
import { packageVersion } from '../util/package-version.js'
import { COMMANDS, type CommandModule, loadCommandModule } from './command-index.js'
import { type CliContext, createContext } from './context.js'
import { environmentHelp } from './environment.js'
import { type CliIO, processIO } from './io.js'

/** The top-level command `argv` invokes (`tarn help <command>` counts as `<command>`), if any. */
function invokedCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'))
  return words[0] === 'help' ? words[1] : words[0]
}

/**
 * Builds the `tarn` command tree. Only the modules of the commands `argv` invokes are loaded (all of them when `argv`
 * is omitted); every other top-level command is a light entry that `--help` lists from {@link COMMANDS}.
 */
export async function buildProgram(ctx: CliContext, argv?: readonly string[]): Promise<Command> {
  const output = {
    writeOut: (s: string) => ctx.io.out(s),
    writeErr: (s: string) => ctx.io.err(s),
    outputError: () => undefined,
  }
  const terms = new WeakMap<Command, string>()
  const defaultHelp = new Help()
  const program = new Command('tarn')
    .description('tarn: a code-first lakehouse with Git semantics for data')
    .version(packageVersion(), '-V, --version', 'print the version of tarn')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput(output)
    .configureHelp({ subcommandTerm: (c) => terms.get(c) ?? defaultHelp.subcommandTerm(c) })
  program.addHelpText('after', environmentHelp())
  const invoked = argv === undefined ? undefined : invokedCommand(argv)
  const wanted = new Set<CommandModule>(
    argv === undefined
      ? COMMANDS.map((c) => c.module)
      : COMMANDS.filter((c) => c.name === invoked).map((c) => c.module),
  )
  const registered = new Set<CommandModule>()
  for (const d of COMMANDS) {
    if (registered.has(d.module)) continue
    if (wanted.has(d.module)) {
      ;(await loadCommandModule(d.module))(program, ctx)
      registered.add(d.module)
      continue
    }
    const stub = program.command(d.name).description(d.description).helpOption(false)
    terms.set(stub, d.term)
  }
  for (const c of allCommands(program)) c.exitOverride().configureOutput(output)
  return program
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((s) => [s, ...allCommands(s)])
}

/** `tarn --version [--json]`: answered before anything else loads. */
function isVersionRequest(argv: readonly string[]): boolean {
  return (
    argv.some((a) => a === '--version' || a === '-V') &&
    argv.every((a) => a === '--version' || a === '-V' || a === '--json')
  )
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
    if (isVersionRequest(argv)) {
      io.out(json ? `${JSON.stringify({ version: packageVersion() })}\n` : `${packageVersion()}\n`)
      return 0
    }
    if (argv.length === 0) {
      ;(await buildProgram(ctx, argv)).outputHelp()
      return 2
    }
    await (await buildProgram(ctx, argv)).parseAsync([...argv], { from: 'user' })
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
