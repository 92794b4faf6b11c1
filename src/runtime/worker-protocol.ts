/**
 * What the parent tells a function worker to do: plain data written to a JSON file in the scratch area (the rows
 * travel separately, as Arrow IPC files).
 */
export interface WorkerTask {
  readonly kind: 'model' | 'expectation'
  /** Absolute path of the transpiled module. */
  readonly module: string
  readonly exportName: string
  readonly name: string
  /** Project-relative file of the function. */
  readonly file: string
  /** Absolute project directory (stack frames under it are the user's). */
  readonly projectDir: string
  /** Input alias → Arrow IPC file. */
  readonly inputs: Readonly<Record<string, string>>
  /**
   * Models: the file to write the result to, without extension: `<output>.parquet` when every column has a direct
   * Parquet form (DuckDB reads it as is), else `<output>.arrow` (Arrow IPC, loaded by the parent). Expectations: the
   * Arrow IPC file for their failing rows.
   */
  readonly output: string | null
  readonly params: Readonly<Record<string, string | number | boolean>>
}

/**
 * A message from a worker to its parent over the IPC channel.
 */
export type WorkerMessage =
  | {
      readonly type: 'log'
      readonly stream: 'stdout' | 'stderr' | 'log'
      readonly text: string
      readonly file: string | null
      readonly line: number | null
    }
  | {
      readonly type: 'done'
      readonly rows: number
      readonly passed: boolean | null
      /** Models: the file the result was written to (Parquet or Arrow IPC). */
      readonly output?: string
    }
  | {
      readonly type: 'error'
      readonly message: string
      readonly file: string | null
      readonly line: number | null
    }

/**
 * What a worker writes on its stdout and stderr once its function has finished, just before its last message: the
 * parent has then read every byte the function wrote (a pipe keeps its order) and need not wait for the process to
 * exit. Never a line a function writes (it holds NUL characters).
 */
export const END_OF_OUTPUT = '\u0000tarn:end-of-output\u0000'
