import { join } from 'node:path'
import { Command } from 'commander'
import { registerSimCommands } from '../../src/cli/commands/sim.js'
import { memoryIO } from '../../src/cli/io.js'
import { REFERENCE_DIR as SHARED_REFERENCE } from '../helpers/reference.js'

/** Where the Eudoxia regression cases live (override with TARN_EUDOXIA_REFERENCE). */
export const REFERENCE_DIR = process.env.TARN_EUDOXIA_REFERENCE ?? join(SHARED_REFERENCE, 'eudoxia')

/** The two Eudoxia regression cases. */
export const REFERENCE_CASES = ['naive_defaults_10m', 'priority_defaults_10m'] as const

/** Runs `tarn sim ...` in memory and returns what it printed. */
export async function runSim(
  args: string[],
  cwd = process.cwd(),
): Promise<{ stdout: string; stderr: string }> {
  const io = memoryIO({}, cwd)
  const program = new Command()
  program.exitOverride()
  registerSimCommands(program, io)
  await program.parseAsync(['node', 'tarn', 'sim', ...args])
  return { stdout: io.stdout(), stderr: io.stderr() }
}
