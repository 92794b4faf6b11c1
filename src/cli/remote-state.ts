import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'

/**
 * The client-side state of remote mode: the active branch per server URL, kept in `$TARN_HOME/remotes.json`
 * (`TARN_HOME` defaults to `~/.tarn`), so `tarn checkout dev` against a server changes neither the server's nor
 * another client's active branch. `TARN_BRANCH` overrides it for one shell or one command.
 */
export interface RemoteState {
  /** The active branch stored for the server, if any. */
  read(): string | undefined
  write(branch: string): void
}

function stateFile(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const raw = env.TARN_HOME ?? join(homedir(), '.tarn')
  return join(isAbsolute(raw) ? raw : resolve(cwd, raw), 'remotes.json')
}

function readAll(path: string): Record<string, { activeBranch?: string }> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, { activeBranch?: string }>
  } catch {
    return {}
  }
}

/**
 * The {@link RemoteState} of one server URL.
 */
export function remoteState(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  url: string,
): RemoteState {
  const path = stateFile(env, cwd)
  const key = url.replace(/\/+$/, '')
  return {
    read: () => readAll(path)[key]?.activeBranch,
    write: (branch) => {
      const all = readAll(path)
      all[key] = { ...all[key], activeBranch: branch }
      mkdirSync(join(path, '..'), { recursive: true })
      const tmp = `${path}.${process.pid}.tmp`
      writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`)
      renameSync(tmp, path)
    },
  }
}
