/**
 * Where a CLI command writes. `out` is stdout (with `--json`, exactly one JSON document goes there and nothing else);
 * `err` is stderr (progress, warnings, human error lines). Tests pass an in-memory CliIO.
 *
 * @example
 * ```ts
 * const io = memoryIO()
 * io.out('hello\n')
 * io.stdout() // 'hello\n'
 * ```
 */
export interface CliIO {
  out(text: string): void
  err(text: string): void
  /** Environment variables the command sees. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The working directory relative paths resolve against. */
  readonly cwd: string
}

/**
 * The CliIO of the running process.
 *
 * @example
 * ```ts
 * await main(['info'], processIO())
 * ```
 */
export function processIO(): CliIO {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
  }
}

/**
 * An in-memory CliIO that records what was written, for tests.
 *
 * @example
 * ```ts
 * const io = memoryIO({ TARN_HOME: '/tmp/lake' }); await main(['info', '--json'], io); JSON.parse(io.stdout())
 * ```
 */
export function memoryIO(
  env: Record<string, string | undefined> = {},
  cwd = process.cwd(),
): CliIO & { stdout(): string; stderr(): string } {
  let o = ''
  let e = ''
  return {
    out: (t) => {
      o += t
    },
    err: (t) => {
      e += t
    },
    env,
    cwd,
    stdout: () => o,
    stderr: () => e,
  }
}
