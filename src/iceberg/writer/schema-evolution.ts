import { TarnError } from '../../util/errors.js'
import { nextMetadataLog } from '../metadata-log.js'
import { decimalParams, type IcebergType, type NestedField, type Schema, sameSchemaShape } from '../schema.js'
import type { LoadedTable } from '../table-loader.js'
import { currentSchema, type TableMetadata } from '../table-metadata.js'
import { type CommitResult, keyOfUri, type WriterDeps, writeMetadataFile } from './snapshot-producer.js'

/**
 * One schema change on a top-level column.
 */
export type SchemaChange =
  | { readonly op: 'add'; readonly name: string; readonly type: IcebergType; readonly doc?: string }
  | { readonly op: 'rename'; readonly name: string; readonly newName: string }
  | { readonly op: 'widen'; readonly name: string; readonly type: IcebergType }
  | { readonly op: 'makeOptional'; readonly name: string }

function canWiden(from: IcebergType, to: IcebergType): boolean {
  if (from === to) return true
  if (from === 'int' && to === 'long') return true
  if (from === 'float' && to === 'double') return true
  const a = decimalParams(from)
  const b = decimalParams(to)
  return a !== undefined && b !== undefined && a.scale === b.scale && b.precision >= a.precision
}

/**
 * Applies schema changes to a schema, assigning fresh field ids from `lastColumnId` (pure).
 */
export function applySchemaChanges(
  schema: Schema,
  changes: readonly SchemaChange[],
  lastColumnId: number,
): { schema: Schema; lastColumnId: number } {
  let fields: NestedField[] = [...schema.fields]
  let last = lastColumnId
  const find = (name: string): NestedField => {
    const f = fields.find((x) => x.name === name)
    if (!f)
      throw new TarnError('INVALID_ARGUMENT', `No column named ${JSON.stringify(name)}`, { column: name })
    return f
  }
  const replace = (f: NestedField, next: NestedField): void => {
    fields = fields.map((x) => (x.id === f.id ? next : x))
  }
  for (const c of changes) {
    switch (c.op) {
      case 'add':
        if (fields.some((x) => x.name === c.name)) {
          throw new TarnError('INVALID_ARGUMENT', `Column ${JSON.stringify(c.name)} already exists`, {
            column: c.name,
          })
        }
        if (typeof c.type !== 'string')
          throw new TarnError('INVALID_ARGUMENT', 'Only primitive columns can be added')
        fields.push({
          id: ++last,
          name: c.name,
          required: false,
          type: c.type,
          ...(c.doc ? { doc: c.doc } : {}),
        })
        break
      case 'rename': {
        const f = find(c.name)
        if (fields.some((x) => x.name === c.newName)) {
          throw new TarnError('INVALID_ARGUMENT', `Column ${JSON.stringify(c.newName)} already exists`, {
            column: c.newName,
          })
        }
        replace(f, { ...f, name: c.newName })
        break
      }
      case 'widen': {
        const f = find(c.name)
        if (!canWiden(f.type, c.type)) {
          throw new TarnError(
            'INVALID_ARGUMENT',
            `Cannot change ${c.name} from ${String(f.type)} to ${String(c.type)}`,
            {
              column: c.name,
            },
          )
        }
        replace(f, { ...f, type: c.type })
        break
      }
      case 'makeOptional': {
        const f = find(c.name)
        replace(f, { ...f, required: false })
        break
      }
    }
  }
  return { schema: { ...schema, fields }, lastColumnId: last }
}

/**
 * Evolves the table schema (add column, rename column, widen int→long / float→double / decimal precision, make
 * optional) by writing a new metadata file with a new current schema; data files are untouched and read by field id.
 */
export async function evolveSchema(
  table: LoadedTable,
  changes: readonly SchemaChange[],
  deps: WriterDeps,
): Promise<CommitResult> {
  const m = table.metadata
  const cur = currentSchema(m)
  const { schema, lastColumnId } = applySchemaChanges(cur, changes, m['last-column-id'])
  const existing = m.schemas.find((s) => sameSchemaShape(s, schema))
  const newId = existing ? existing['schema-id'] : Math.max(...m.schemas.map((s) => s['schema-id'])) + 1
  const now = deps.clock.now()
  const next: TableMetadata = {
    ...m,
    'last-updated-ms': now,
    'last-column-id': Math.max(lastColumnId, m['last-column-id']),
    schemas: existing ? m.schemas : [...m.schemas, { ...schema, 'schema-id': newId }],
    'current-schema-id': newId,
    'metadata-log': nextMetadataLog(
      m['metadata-log'],
      { 'timestamp-ms': m['last-updated-ms'], 'metadata-file': table.metadataLocation },
      m.properties,
    ),
  }
  return writeMetadataFile(
    table.io.store,
    keyOfUri(table.io.store, table.root),
    next,
    table.metadataLocation,
    deps,
  )
}

/**
 * The schema changes that let a table take rows of `incoming`'s shape: a new column (matched by name, ignoring case)
 * is added, a column whose incoming type is a spec-allowed widening of its type (int→long, float→double, decimal
 * precision increase) is widened. Any other type difference is left to the value checks of the write, or with
 * `strict` is an error (`SCHEMA_MISMATCH` naming the column and both types). Only primitive columns are considered.
 */
export function schemaChangesFor(
  current: Schema,
  incoming: Schema,
  options: { readonly strict?: boolean; readonly table?: string } = {},
): SchemaChange[] {
  const changes: SchemaChange[] = []
  for (const f of incoming.fields) {
    const have = current.fields.find((x) => x.name.toLowerCase() === f.name.toLowerCase())
    if (!have) {
      if (typeof f.type !== 'string') {
        throw new TarnError(
          'SCHEMA_MISMATCH',
          `cannot add column ${f.name}: only primitive columns can be added`,
          {
            column: f.name,
            ...(options.table ? { table: options.table } : {}),
          },
        )
      }
      changes.push({ op: 'add', name: f.name, type: f.type })
      continue
    }
    if (typeof have.type !== 'string' || typeof f.type !== 'string' || have.type === f.type) continue
    if (canWiden(have.type, f.type)) {
      changes.push({ op: 'widen', name: have.name, type: f.type })
      continue
    }
    if (options.strict && !canWiden(f.type, have.type)) {
      throw new TarnError(
        'SCHEMA_MISMATCH',
        `cannot change column ${have.name}${options.table ? ` of ${options.table}` : ''} from ${have.type} to ${f.type}: only int->long, float->double and a larger decimal precision are allowed`,
        {
          column: have.name,
          tableType: have.type,
          newType: f.type,
          ...(options.table ? { table: options.table } : {}),
        },
      )
    }
  }
  return changes
}
