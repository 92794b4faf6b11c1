import { TarnError } from '../util/errors.js'

/** `NAMESPACE_NOT_FOUND` for a namespace missing at a ref. */
export function notFoundNamespace(namespace: string, ref: string): TarnError {
  return new TarnError('NAMESPACE_NOT_FOUND', `namespace ${namespace} does not exist at ${ref}`, {
    namespace,
    ref,
  })
}

/** `TABLE_NOT_FOUND` for a table missing at a ref. */
export function notFoundTable(table: string, ref: string): TarnError {
  return new TarnError('TABLE_NOT_FOUND', `table ${table} does not exist at ${ref}`, { table, ref })
}

/** `TABLE_EXISTS` for a table a branch already holds. */
export function tableExists(table: string, branch: string): TarnError {
  return new TarnError('TABLE_EXISTS', `table ${table} already exists on ${branch}`, { table, branch })
}
