import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from './build.js'

/**
 * Runs a fixture script (`test/fixtures/...`) in a child Node process and resolves with the JSON lines it printed;
 * rejects with its stderr and stdout when it exits non-zero.
 *
 * @example
 * ```ts
 * const lines = await jsonLinesOf<{ op: string }>('test/fixtures/random-writer.mjs', [url, '0', '30', '7'])
 * ```
 */
export function jsonLinesOf<T>(script: string, args: readonly string[]): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, script), ...args])
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      err += d
    })
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${script} ${args.join(' ')} exited ${code}: ${err}\n${out}`))
      else
        resolve(
          out
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as T),
        )
    })
  })
}
