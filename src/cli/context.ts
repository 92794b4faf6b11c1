import type { Lake } from '../lake/lake.js'
import type { LakeApi } from '../lake/lake-api.js'
import { TarnError } from '../util/errors.js'
import type { CliIO } from './io.js'

/**
 * Shared by every command: where to write, and how to open the lake (closed by `main` after the command). With
 * `TARN_URL` set the lake is the server's, reached through `RemoteLake` (with `TARN_API_KEY`), and commands that
 * only make sense on a local lake (`init`, `serve`, `key`) refuse with `NOT_SUPPORTED`.
 */
export interface CliContext {
  readonly io: CliIO
  /** The lake of `TARN_URL` (remote), or of `$TARN_HOME` / `TARN_CATALOG_URL` (`init` creates it when missing). */
  lake(options?: { create?: boolean }): Promise<LakeApi>
  /** The local lake for a command that needs its catalog or directory; `NOT_SUPPORTED` in remote mode. */
  localLake(command: string): Promise<Lake>
  /** Releases whatever `lake()` opened. */
  close(): Promise<void>
}

function localOnly(command: string, url: string): TarnError {
  return new TarnError(
    'NOT_SUPPORTED',
    `tarn ${command} works on a local lake, and TARN_URL points at the server ${url}: run it where the lake is, or unset TARN_URL`,
    { command, url },
  )
}

/**
 * Makes the context of one CLI invocation. When the active branch no longer exists (deleted by another process), the
 * lake falls back to `main` and a notice says so on stderr, instead of every command failing.
 */
export function createContext(io: CliIO): CliContext {
  let opened: Promise<LakeApi> | undefined
  let local: Promise<Lake> | undefined
  const url = io.env.TARN_URL?.trim() || undefined
  const announce = async <T extends LakeApi>(lake: T): Promise<T> => {
    const gone = await lake.ensureActiveBranch().catch(() => undefined)
    if (gone !== undefined)
      io.err(`notice: the active branch ${gone} no longer exists; the active branch is now main\n`)
    return lake
  }
  const openLocal = (create: boolean): Promise<Lake> => {
    // The SDK (and the catalog's native driver) loads with the first command that opens the lake.
    local ??= import('../lake/lake.js')
      .then(({ Lake }) =>
        create ? Lake.init({ env: io.env, cwd: io.cwd }) : Lake.open({ env: io.env, cwd: io.cwd }),
      )
      .then(announce)
    return local
  }
  const openRemote = async (server: string): Promise<LakeApi> => {
    const [{ RemoteLake }, { remoteState }] = await Promise.all([
      import('../client/remote-lake.js'),
      import('./remote-state.js'),
    ])
    const state = remoteState(io.env, io.cwd, server)
    const pinned = io.env.TARN_BRANCH?.trim() || undefined
    const activeBranch = pinned ?? state.read()
    const apiKey = io.env.TARN_API_KEY?.trim() || undefined
    return announce(
      RemoteLake.connect({
        url: server,
        ...(apiKey !== undefined ? { apiKey } : {}),
        ...(activeBranch !== undefined ? { activeBranch } : {}),
        onCheckout: (branch) => state.write(branch),
      }),
    )
  }
  return {
    io,
    lake: (options = {}) => {
      if (url !== undefined && options.create) return Promise.reject(localOnly('init', url))
      opened ??= url !== undefined ? openRemote(url) : openLocal(options.create === true)
      return opened
    },
    localLake: (command) => {
      if (url !== undefined) return Promise.reject(localOnly(command, url))
      return openLocal(false)
    },
    close: async () => {
      const all = [opened, local].filter((p): p is Promise<LakeApi> => p !== undefined)
      for (const p of new Set(all)) await (await p.catch(() => undefined))?.close()
    },
  }
}
