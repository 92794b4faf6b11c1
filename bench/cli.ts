import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type BenchResult, type BenchSection, median } from './result.js'

const ROOT = join(import.meta.dirname, '..', '..')
const BIN = join(ROOT, 'bin', 'tarn.js')
const RUNS = 21

interface Timing {
  readonly wallMs: number
  readonly tool: 'hyperfine' | 'spawnSync'
}

function hasHyperfine(): boolean {
  return spawnSync('hyperfine', ['--version'], { stdio: 'ignore' }).status === 0
}

/** Median wall time of a cold process, with hyperfine when installed, else timed spawns from node. */
function timeProcess(args: readonly string[], env: Record<string, string>, useHyperfine: boolean): Timing {
  const full = { ...process.env, ...env }
  if (useHyperfine) {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-bench-hf-'))
    try {
      const out = join(dir, 'out.json')
      const quoted = [process.execPath, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
      const r = spawnSync(
        'hyperfine',
        ['--runs', String(RUNS), '--warmup', '2', '-N', '--style', 'none', '--export-json', out, quoted],
        { env: full, stdio: 'ignore', cwd: ROOT },
      )
      if (r.status === 0) {
        const doc = JSON.parse(readFileSync(out, 'utf8')) as { results: { median: number }[] }
        return { wallMs: (doc.results[0]?.median ?? Number.NaN) * 1000, tool: 'hyperfine' }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const ms: number[] = []
  for (let i = 0; i < RUNS + 2; i++) {
    const t = performance.now()
    const r = spawnSync(process.execPath, args, { env: full, stdio: 'ignore', cwd: ROOT })
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited with ${r.status}`)
    if (i >= 2) ms.push(performance.now() - t)
  }
  return { wallMs: median(ms), tool: 'spawnSync' }
}

/**
 * Start-up of the `tarn` command: cold processes of `--version`, `--help` and `branch ls` on an embedded lake, against
 * a bare `node` start and against a process that loads every command module and heavy dependency (what every
 * invocation loaded before commands were loaded lazily), in the same run.
 */
export async function benchCli(): Promise<BenchSection> {
  const home = mkdtempSync(join(tmpdir(), 'tarn-bench-cli-'))
  try {
    const env = { TARN_HOME: home, TARN_USER: 'bench' }
    const init = spawnSync(process.execPath, [BIN, 'init'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    })
    if (init.status !== 0) throw new Error('tarn init failed')
    const hf = hasHyperfine()
    const commands = readdirSync(join(ROOT, 'dist', 'cli', 'commands'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => pathToFileURL(join(ROOT, 'dist', 'cli', 'commands', f)).href)
    const eagerScript = [
      ...commands,
      pathToFileURL(join(ROOT, 'dist', 'index.js')).href,
      'pg',
      '@aws-sdk/client-s3',
      'typescript',
      '@duckdb/node-api',
    ]
      .map((m) => `await import(${JSON.stringify(m)})`)
      .join(';')
    const bare = timeProcess(['-e', '0'], env, hf)
    const eager = timeProcess(['--input-type=module', '-e', eagerScript], env, hf)
    const version = timeProcess([BIN, '--version'], env, hf)
    const help = timeProcess([BIN, '--help'], env, hf)
    const ls = timeProcess([BIN, 'branch', 'ls'], env, hf)
    const row = (name: string, t: Timing, note?: string): BenchResult => ({
      name,
      value: t.wallMs,
      unit: 'ms',
      baseline: 'every module loaded eagerly',
      ratio: t.wallMs / eager.wallMs,
      ...(note ? { note } : {}),
    })
    return {
      title: 'Command start-up',
      description:
        `Median wall time of ${RUNS} cold \`node\` processes (${bare.tool === 'hyperfine' ? 'hyperfine -N, 2 warm-ups' : 'timed spawnSync, 2 warm-ups; install hyperfine for steadier figures'}), ` +
        'against a process that imports every command module, the SDK, DuckDB, pg, the AWS SDK and TypeScript ' +
        '(what every `tarn` invocation loaded before commands were loaded on demand), in the same run. Run with ' +
        '`npm run bench -- cli`.',
      results: [
        { name: 'bare node start (node -e 0)', value: bare.wallMs, unit: 'ms' },
        { name: 'every command module and heavy dependency loaded eagerly', value: eager.wallMs, unit: 'ms' },
        row('tarn --version', version, 'goal: at most 150 ms'),
        row('tarn --help', help, 'goal: at most 150 ms; loads no command module'),
        row(
          'tarn branch ls, embedded lake',
          ls,
          'goal: at most 300 ms; loads the branch commands and SQLite only',
        ),
      ],
    }
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}
