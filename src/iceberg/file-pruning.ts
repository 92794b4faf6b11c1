import type { Expression, Literal } from './expression.js'
import { compareIcebergValues, type IcebergValue, toIcebergValue } from './iceberg-value.js'
import type { DataFile, ManifestFile } from './manifest.js'
import type { PartitionSpec } from './partition-spec.js'
import type { Schema } from './schema.js'
import { decodeSingleValue } from './single-value.js'
import { applyTransform, isOrderPreserving, parseTransform, transformResultType } from './transforms.js'

type Cmp = 'eq' | 'lt' | 'lte' | 'gt' | 'gte'

function cmpOk(op: Cmp, c: number): boolean {
  switch (op) {
    case 'eq':
      return c === 0
    case 'lt':
      return c < 0
    case 'lte':
      return c <= 0
    case 'gt':
      return c > 0
    case 'gte':
      return c >= 0
  }
}

/**
 * True unless the file's partition values prove that no row of the file can match the filter (conservative: unknown
 * columns, transforms and operators keep the file).
 *
 * @example
 * ```ts
 * partitionMightMatch(file, spec, schema, eq('date', '2022-01-01')) // false for a file of another day
 * ```
 */
export function partitionMightMatch(
  file: DataFile,
  spec: PartitionSpec,
  schema: Schema,
  filter: Expression,
): boolean {
  const test = (e: Expression): boolean => {
    switch (e.op) {
      case 'true':
        return true
      case 'and':
        return e.args.every(test)
      case 'or':
        return e.args.some(test)
      case 'not':
      case 'neq':
        return true
      case 'in':
        return e.values.some((v) => test({ op: 'eq', column: e.column, value: v }))
      case 'isNull':
      case 'notNull': {
        const col = schema.fields.find((f) => f.name === e.column)
        if (!col) return true
        for (const pf of spec.fields) {
          if (pf['source-id'] !== col.id) continue
          const t = parseTransform(pf.transform)
          if (t.kind === 'void' || !file.partition.has(pf['field-id'])) continue
          const isNull = file.partition.get(pf['field-id']) === null
          if (e.op === 'isNull' && !isNull) return false
          if (e.op === 'notNull' && isNull) return false
        }
        return true
      }
      default: {
        const col = schema.fields.find((f) => f.name === e.column)
        if (!col || typeof col.type !== 'string') return true
        let lit: IcebergValue
        try {
          lit = toIcebergValue(col.type, e.value)
        } catch {
          return true
        }
        for (const pf of spec.fields) {
          if (pf['source-id'] !== col.id || !file.partition.has(pf['field-id'])) continue
          const t = parseTransform(pf.transform)
          const pv = file.partition.get(pf['field-id']) ?? null
          if (pv === null) return false
          const projected = applyTransform(t, col.type, lit)
          if (projected === null) continue
          if (t.kind === 'identity') {
            if (!cmpOk(e.op, compareIcebergValues(pv, projected))) return false
          } else if (t.kind === 'bucket') {
            if (e.op === 'eq' && compareIcebergValues(pv, projected) !== 0) return false
          } else if (isOrderPreserving(t)) {
            const c = compareIcebergValues(pv, projected)
            if (e.op === 'eq' && c !== 0) return false
            if ((e.op === 'lt' || e.op === 'lte') && c > 0) return false
            if ((e.op === 'gt' || e.op === 'gte') && c < 0) return false
          }
        }
        return true
      }
    }
  }
  return test(filter)
}

/**
 * True unless the file's column bounds and null counts prove that no row can match the filter.
 *
 * @example
 * ```ts
 * boundsMightMatch(file, schema, { op: 'gt', column: 'n', value: 100 }) // false when upper bound of n is 50
 * ```
 */
export function boundsMightMatch(file: DataFile, schema: Schema, filter: Expression): boolean {
  const colOf = (name: string) => schema.fields.find((f) => f.name === name)
  const test = (e: Expression): boolean => {
    switch (e.op) {
      case 'true':
        return true
      case 'and':
        return e.args.every(test)
      case 'or':
        return e.args.some(test)
      case 'not':
      case 'neq':
        return true
      case 'in':
        return e.values.some((v) => test({ op: 'eq', column: e.column, value: v }))
      case 'isNull': {
        const col = colOf(e.column)
        const n = col ? file.nullValueCounts?.get(col.id) : undefined
        return n === undefined || n > 0
      }
      case 'notNull': {
        const col = colOf(e.column)
        if (!col) return true
        const n = file.nullValueCounts?.get(col.id)
        const v = file.valueCounts?.get(col.id)
        return n === undefined || v === undefined || v > n
      }
      default: {
        const col = colOf(e.column)
        if (!col || typeof col.type !== 'string') return true
        if (col.type === 'float' || col.type === 'double') return true
        let lit: IcebergValue
        try {
          lit = toIcebergValue(col.type, e.value as Literal)
        } catch {
          return true
        }
        const nulls = file.nullValueCounts?.get(col.id)
        const values = file.valueCounts?.get(col.id)
        if (nulls !== undefined && values !== undefined && values > 0 && nulls === values) return false
        const loB = file.lowerBounds?.get(col.id)
        const hiB = file.upperBounds?.get(col.id)
        const lo = loB ? decodeSingleValue(col.type, loB) : undefined
        const hi = hiB ? decodeSingleValue(col.type, hiB) : undefined
        const isStr = col.type === 'string' || col.type === 'binary'
        if (lo !== undefined && lo !== null) {
          const c = compareIcebergValues(lit, lo)
          if ((e.op === 'eq' || e.op === 'lte') && c < 0) return false
          if (e.op === 'lt' && c <= 0) return false
        }
        if (hi !== undefined && hi !== null && !isStr) {
          const c = compareIcebergValues(lit, hi)
          if ((e.op === 'eq' || e.op === 'gte') && c > 0) return false
          if (e.op === 'gt' && c >= 0) return false
        }
        if (hi !== undefined && hi !== null && isStr) {
          // string upper bounds may be truncated-and-incremented: only a strict excess proves absence
          const c = compareIcebergValues(lit, hi)
          if ((e.op === 'eq' || e.op === 'gte' || e.op === 'gt') && c > 0) return false
        }
        return true
      }
    }
  }
  return test(filter)
}

/**
 * True unless a manifest's partition summaries (per partition field: contains-null and lower/upper bounds) prove that
 * none of its files can match the filter. Lets a scan skip whole manifests.
 *
 * @example
 * ```ts
 * manifestMightMatch(manifestFile, spec, schema, eq('day', '2022-01-01'))
 * ```
 */
export function manifestMightMatch(
  manifest: ManifestFile,
  spec: PartitionSpec,
  schema: Schema,
  filter: Expression,
): boolean {
  const summaries = manifest.partitions
  if (!summaries || summaries.length !== spec.fields.length) return true
  const test = (e: Expression): boolean => {
    switch (e.op) {
      case 'and':
        return e.args.every(test)
      case 'or':
        return e.args.some(test)
      case 'in':
        return e.values.some((v) => test({ op: 'eq', column: e.column, value: v }))
      case 'eq':
      case 'lt':
      case 'lte':
      case 'gt':
      case 'gte': {
        const col = schema.fields.find((f) => f.name === e.column)
        if (!col || typeof col.type !== 'string') return true
        let lit: IcebergValue
        try {
          lit = toIcebergValue(col.type, e.value)
        } catch {
          return true
        }
        for (const [i, pf] of spec.fields.entries()) {
          if (pf['source-id'] !== col.id) continue
          const t = parseTransform(pf.transform)
          const s = summaries[i]
          if (!s || t.kind === 'void' || (t.kind === 'bucket' && e.op !== 'eq')) continue
          if (s.lowerBound === undefined && s.upperBound === undefined && !s.containsNull) return false
          const projected = applyTransform(t, col.type, lit)
          if (projected === null || s.lowerBound === undefined || s.upperBound === undefined) continue
          const rt = transformResultType(t, col.type)
          const lo = decodeSingleValue(rt, s.lowerBound)
          const hi = decodeSingleValue(rt, s.upperBound)
          if (lo === null || hi === null) continue
          const exact = t.kind === 'identity'
          if (
            e.op === 'eq' &&
            (compareIcebergValues(projected, lo) < 0 || compareIcebergValues(projected, hi) > 0)
          )
            return false
          if ((e.op === 'lt' || e.op === 'lte') && compareIcebergValues(lo, projected) > 0) return false
          if (e.op === 'lt' && exact && compareIcebergValues(lo, projected) >= 0) return false
          if ((e.op === 'gt' || e.op === 'gte') && compareIcebergValues(hi, projected) < 0) return false
          if (e.op === 'gt' && exact && compareIcebergValues(hi, projected) <= 0) return false
        }
        return true
      }
      default:
        return true
    }
  }
  return test(filter)
}
