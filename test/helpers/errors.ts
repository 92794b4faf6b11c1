import { isTarnError, type TarnError } from '../../src/util/errors.js'

/** The TarnError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function errorOf(p: Promise<unknown>): Promise<TarnError> {
  try {
    await p
  } catch (e) {
    if (isTarnError(e)) return e
    throw e
  }
  throw new Error('expected the call to fail')
}

/** The code of the TarnError a promise rejects with. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  return (await errorOf(p)).code
}
