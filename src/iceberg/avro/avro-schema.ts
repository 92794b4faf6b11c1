import type { JsonValue } from '../../util/lossless-json.js'

/**
 * An Avro schema as raw JSON, exactly as written in a container header. Extra attributes (`field-id`, `element-id`,
 * `logicalType`, ...) are kept verbatim so that a schema written back carries them unchanged.
 */
export type AvroSchema = string | readonly AvroSchema[] | AvroComplexSchema

/**
 * A non-primitive Avro schema node (record, array, map, enum, fixed, or an annotated primitive).
 */
export interface AvroComplexSchema {
  readonly type: AvroSchema
  readonly name?: string
  readonly namespace?: string
  readonly fields?: readonly AvroField[]
  readonly items?: AvroSchema
  readonly values?: AvroSchema
  readonly symbols?: readonly string[]
  readonly size?: number
  readonly logicalType?: string
  readonly [attr: string]: JsonValue | AvroSchema | readonly AvroField[] | undefined
}

/**
 * One field of an Avro record schema.
 */
export interface AvroField {
  readonly name: string
  readonly type: AvroSchema
  readonly default?: JsonValue
  readonly doc?: string
  readonly 'field-id'?: number
  readonly [attr: string]: JsonValue | AvroSchema | undefined
}

/**
 * A decoded Avro value: longs are `bigint`, ints/floats/doubles numbers, bytes/fixed `Uint8Array`, records plain
 * objects keyed by field name, maps `Record<string, AvroValue>`.
 */
export type AvroValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly AvroValue[]
  | { readonly [key: string]: AvroValue }

/**
 * A decoded Avro record.
 */
export type AvroRecord = { readonly [key: string]: AvroValue }
