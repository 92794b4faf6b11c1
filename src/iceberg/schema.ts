import { TarnError } from '../util/errors.js'
import type { JsonValue } from '../util/lossless-json.js'

/**
 * An Iceberg primitive type name as written in metadata JSON: `boolean`, `int`, `long`, `float`, `double`,
 * `decimal(P, S)`, `date`, `time`, `timestamp`, `timestamptz`, `string`, `uuid`, `fixed[L]`, `binary`.
 */
export type PrimitiveType = string

/**
 * Any Iceberg type, in the JSON shape of the table metadata spec.
 */
export type IcebergType = PrimitiveType | StructType | ListType | MapType

/**
 * A field of a struct (or of a schema), identified by its field id.
 */
export interface NestedField {
  readonly id: number
  readonly name: string
  readonly required: boolean
  readonly type: IcebergType
  readonly doc?: string
  readonly 'initial-default'?: JsonValue
  readonly 'write-default'?: JsonValue
}

/**
 * A struct type.
 */
export interface StructType {
  readonly type: 'struct'
  readonly fields: readonly NestedField[]
}

/**
 * A list type.
 */
export interface ListType {
  readonly type: 'list'
  readonly 'element-id': number
  readonly element: IcebergType
  readonly 'element-required': boolean
}

/**
 * A map type.
 */
export interface MapType {
  readonly type: 'map'
  readonly 'key-id': number
  readonly key: IcebergType
  readonly 'value-id': number
  readonly value: IcebergType
  readonly 'value-required': boolean
}

/**
 * A table schema: a struct with a schema id.
 */
export interface Schema extends StructType {
  readonly 'schema-id': number
  readonly 'identifier-field-ids'?: readonly number[]
}

/**
 * True for a struct type.
 */
export function isStructType(t: IcebergType): t is StructType {
  return typeof t === 'object' && t.type === 'struct'
}

/**
 * True for a list type.
 */
export function isListType(t: IcebergType): t is ListType {
  return typeof t === 'object' && t.type === 'list'
}

/**
 * True for a map type.
 */
export function isMapType(t: IcebergType): t is MapType {
  return typeof t === 'object' && t.type === 'map'
}

/**
 * Precision and scale of a `decimal(P, S)` type, or undefined for other types.
 */
export function decimalParams(t: IcebergType): { precision: number; scale: number } | undefined {
  if (typeof t !== 'string') return undefined
  const m = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t)
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined
}

/**
 * Length of a `fixed[L]` type, or undefined for other types.
 */
export function fixedLength(t: IcebergType): number | undefined {
  if (typeof t !== 'string') return undefined
  const m = /^fixed\[(\d+)\]$/.exec(t)
  return m ? Number(m[1]) : undefined
}

/**
 * A field found by id, with its dotted path of names from the schema root.
 */
export interface IndexedField {
  readonly id: number
  readonly name: string
  readonly path: readonly string[]
  readonly type: IcebergType
  readonly required: boolean
}

/**
 * Every field id of a schema (struct fields, list elements, map keys and values) mapped to its field.
 */
export function indexSchemaById(schema: StructType): ReadonlyMap<number, IndexedField> {
  const out = new Map<number, IndexedField>()
  const visit = (t: IcebergType, path: readonly string[]): void => {
    if (isStructType(t)) {
      for (const f of t.fields) {
        const p = [...path, f.name]
        out.set(f.id, { id: f.id, name: f.name, path: p, type: f.type, required: f.required })
        visit(f.type, p)
      }
    } else if (isListType(t)) {
      const p = [...path, 'element']
      out.set(t['element-id'], {
        id: t['element-id'],
        name: 'element',
        path: p,
        type: t.element,
        required: t['element-required'],
      })
      visit(t.element, p)
    } else if (isMapType(t)) {
      const kp = [...path, 'key']
      const vp = [...path, 'value']
      out.set(t['key-id'], { id: t['key-id'], name: 'key', path: kp, type: t.key, required: true })
      out.set(t['value-id'], {
        id: t['value-id'],
        name: 'value',
        path: vp,
        type: t.value,
        required: t['value-required'],
      })
      visit(t.key, kp)
      visit(t.value, vp)
    }
  }
  visit(schema, [])
  return out
}

/**
 * The highest field id used anywhere in a type (0 when none).
 */
export function maxFieldId(t: IcebergType): number {
  let max = 0
  for (const id of indexSchemaById({ type: 'struct', fields: isStructType(t) ? t.fields : [] }).keys())
    max = Math.max(max, id)
  return max
}

/**
 * The top-level field of a schema with the given name, or throws `INVALID_ARGUMENT`.
 */
export function fieldByName(schema: StructType, name: string): NestedField {
  const f = schema.fields.find((x) => x.name === name)
  if (!f) throw new TarnError('INVALID_ARGUMENT', `No column named ${JSON.stringify(name)}`, { column: name })
  return f
}

/**
 * Structural equality of two schemas, ignoring the schema id.
 */
export function sameSchemaShape(a: StructType, b: StructType): boolean {
  const strip = (t: IcebergType): unknown =>
    isStructType(t)
      ? t.fields.map((f) => [f.id, f.name, f.required, strip(f.type)])
      : isListType(t)
        ? ['list', t['element-id'], t['element-required'], strip(t.element)]
        : isMapType(t)
          ? ['map', t['key-id'], t['value-id'], t['value-required'], strip(t.key), strip(t.value)]
          : t
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b))
}
