/**
 * Where a CLI command writes. `out` is stdout (with `--json`, exactly one JSON document goes there and nothing else);
 * `err` is stderr (progress, warnings, human error lines). Tests pass an in-memory CliIO.
 */
export interface CliIO {
  out(text: string): void
  err(text: string): void
  /** Environment variables the command sees. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The working directory relative paths resolve against. */
  readonly cwd: string
  /** Whether stdin is a terminal (then nothing is piped in); absent means no stdin at all. */
  readonly stdinIsTTY?: boolean
  /** Reads all of stdin as UTF-8 text. */
  readStdin?(): Promise<string>
}

/**
 * The CliIO of the running process.
 */
export function processIO(): CliIO {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    stdinIsTTY: process.stdin.isTTY === true,
    readStdin: async () => {
      const parts: Buffer[] = []
      for await (const chunk of process.stdin) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
      return Buffer.concat(parts).toString('utf8')
    },
  }
}

/**
 * An in-memory CliIO that records what was written, for tests; `stdin` is what a pipe would hold (none: a terminal).
 */
export function memoryIO(
  env: Record<string, string | undefined> = {},
  cwd = process.cwd(),
  stdin?: string,
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
    stdinIsTTY: stdin === undefined,
    readStdin: async () => stdin ?? '',
    stdout: () => o,
    stderr: () => e,
  }
}
