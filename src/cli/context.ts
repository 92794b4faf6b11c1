import type { Lake } from '../lake/lake.js'
import type { CliIO } from './io.js'

/**
 * Shared by every command: where to write, and how to open the lake (closed by `main` after the command).
 *
 * @example
 * ```ts
 * const lake = await ctx.lake(); ctx.io.out(`${lake.activeBranch()}\n`)
 * ```
 */
export interface CliContext {
  readonly io: CliIO
  /** Opens the lake of `$TARN_HOME` / `TARN_CATALOG_URL` (`init` creates it when missing). */
  lake(options?: { create?: boolean }): Promise<Lake>
  /** Releases whatever `lake()` opened. */
  close(): Promise<void>
}

/**
 * Makes the context of one CLI invocation. When the active branch no longer exists (deleted by another process), the
 * lake falls back to `main` and a notice says so on stderr, instead of every command failing.
 *
 * @example
 * ```ts
 * const ctx = createContext(processIO())
 * const lake = await ctx.lake()
 * await ctx.close()
 * ```
 */
export function createContext(io: CliIO): CliContext {
  let opened: Promise<Lake> | undefined
  return {
    io,
    lake: (options = {}) => {
      // The SDK (and the catalog's native driver) loads with the first command that opens the lake.
      opened ??= import('../lake/lake.js')
        .then(({ Lake }) =>
          options.create ? Lake.init({ env: io.env, cwd: io.cwd }) : Lake.open({ env: io.env, cwd: io.cwd }),
        )
        .then(async (lake) => {
          const gone = await lake.ensureActiveBranch().catch(() => undefined)
          if (gone !== undefined)
            io.err(`notice: the active branch ${gone} no longer exists; the active branch is now main\n`)
          return lake
        })
      return opened
    },
    close: async () => {
      if (opened) await (await opened.catch(() => undefined))?.close()
    },
  }
}
