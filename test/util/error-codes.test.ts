import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  asTarnError,
  ERROR_CODES,
  exitCodeFor,
  httpStatusFor,
  isErrorCode,
  messageOf,
  TarnError,
} from '../../src/util/errors.js'
import { ROOT } from '../helpers/build.js'

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** Code literals in src/: thrown, passed to projectError/isTarnError, compared with `.code`, or assigned to `code`. */
const CODE_SITES = [
  /new TarnError\(\s*'([A-Z][A-Z0-9_]*)'/g,
  /projectError\(\s*'([A-Z][A-Z0-9_]*)'/g,
  /isTarnError\(\s*[\w.]+,\s*'([A-Z][A-Z0-9_]*)'/g,
  /\.code\s*[!=]==\s*'([A-Z][A-Z0-9_]*)'/g,
  /\bcode\s*(?::\s*ErrorCode\s*)?[:=]\s*'([A-Z][A-Z0-9_]*)'/g,
  /\?\s*'([A-Z][A-Z0-9]*_[A-Z0-9_]+)'\s*:\s*'[A-Z][A-Z0-9_]*'/g,
]

describe('the error code table', () => {
  it('lists every code that src/ throws or compares against', () => {
    const unknown: string[] = []
    let seen = 0
    for (const file of sources(join(ROOT, 'src'))) {
      const text = readFileSync(file, 'utf8')
      for (const re of CODE_SITES) {
        for (const m of text.matchAll(re)) {
          seen++
          const code = m[1] as string
          if (!isErrorCode(code)) unknown.push(`${relative(ROOT, file)}: ${code}`)
        }
      }
    }
    expect(seen).toBeGreaterThan(100)
    expect(unknown).toEqual([])
  })

  it('has one entry per code in alphabetical order with an exit code and an HTTP status from the allowed sets', () => {
    const codes = Object.keys(ERROR_CODES)
    expect(codes).toEqual([...codes].sort())
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/)
      expect([1, 2, 3, 4, 5]).toContain(info.exit)
      expect([400, 401, 403, 404, 405, 409, 413, 422, 429, 500]).toContain(info.http)
    }
  })

  it('derives exit codes and HTTP statuses from the table: not found 3/404, conflicts 4, usage 2, failed runs 5', () => {
    expect(exitCodeFor('BRANCH_NOT_FOUND')).toBe(3)
    expect(httpStatusFor('BRANCH_NOT_FOUND')).toBe(404)
    expect(exitCodeFor('MERGE_CONFLICT')).toBe(4)
    expect(httpStatusFor('MERGE_CONFLICT')).toBe(409)
    expect(exitCodeFor('USAGE')).toBe(2)
    expect(exitCodeFor('RUN_FAILED')).toBe(5)
    expect(exitCodeFor('CORRUPT_FILE')).toBe(1)
    expect(httpStatusFor('CORRUPT_FILE')).toBe(500)
    for (const code of Object.keys(ERROR_CODES)) {
      if (!isErrorCode(code)) throw new Error(code)
      // a missing project is a planning error: exit 2, like every error found before a run creates anything
      if (code.endsWith('_NOT_FOUND') && code !== 'PROJECT_NOT_FOUND') expect(exitCodeFor(code), code).toBe(3)
      if (code.endsWith('_EXISTS')) expect(exitCodeFor(code), code).toBe(4)
    }
    expect(isErrorCode('NO_SUCH_CODE')).toBe(false)
    expect(isErrorCode('toString')).toBe(false)
  })

  it('turns anything that is not a TarnError into INTERNAL with a one-line message and the original as cause', () => {
    const plain = new RangeError('offset out of range\n  while decoding')
    const e = asTarnError(plain)
    expect(e).toBeInstanceOf(TarnError)
    expect(e.code).toBe('INTERNAL')
    expect(e.message).toBe('offset out of range while decoding')
    expect(e.context).toEqual({ error: 'RangeError' })
    expect(e.cause).toBe(plain)
    const known = new TarnError('TABLE_NOT_FOUND', 'no table t')
    expect(asTarnError(known)).toBe(known)
    expect(messageOf('a\r\n\n  b')).toBe('a b')
  })
})
