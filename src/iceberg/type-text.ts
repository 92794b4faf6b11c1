import { type IcebergType, isListType, isMapType, isStructType } from './schema.js'

/**
 * An Iceberg type as readable text: primitives by their Iceberg names (`long`, `decimal(10, 2)`), and nested types
 * spelled out: `list<long>`, `map<string, long>`, `struct<a: int, b: string>` (required fields marked `not null`).
 */
export function icebergTypeText(t: IcebergType): string {
  if (isStructType(t)) {
    return `struct<${t.fields.map((f) => `${f.name}: ${icebergTypeText(f.type)}${f.required ? ' not null' : ''}`).join(', ')}>`
  }
  if (isListType(t)) return `list<${icebergTypeText(t.element)}>`
  if (isMapType(t)) return `map<${icebergTypeText(t.key)}, ${icebergTypeText(t.value)}>`
  return t
}
