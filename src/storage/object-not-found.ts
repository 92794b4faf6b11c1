import { fileURLToPath } from 'node:url'
import { TarnError } from '../util/errors.js'

/**
 * The `OBJECT_NOT_FOUND` error every store throws for a missing key.
 */
export function objectNotFound(key: string, uri: string, cause?: unknown): TarnError {
  return new TarnError(
    'OBJECT_NOT_FOUND',
    `Object not found: ${uri.startsWith('file:') ? fileURLToPath(uri) : uri}`,
    { key, uri },
    cause === undefined ? undefined : { cause },
  )
}
