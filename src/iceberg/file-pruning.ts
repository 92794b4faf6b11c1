import type { Expression, Literal } from './expression.js'
import { compareIcebergValues, type IcebergValue, toIcebergValue } from './iceberg-value.js'
import type { DataFile, ManifestFile, ResolvedEntry } from './manifest.js'
import type { ManifestView } from './manifest-view.js'
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

/** A test of one data file against a filter compiled once per scan: true unless the file cannot match. */
export type FilePredicate = (file: DataFile) => boolean

const KEEP: FilePredicate = () => true

/** Compiles `and`/`or`/`in` around a compiler of single-column leaves (null: the leaf keeps every file). */
function compileTree(filter: Expression, leaf: (e: Expression) => FilePredicate | null): FilePredicate {
  const compile = (e: Expression): FilePredicate | null => {
    switch (e.op) {
      case 'true':
        return null
      case 'and': {
        const parts = e.args.map(compile).filter((p): p is FilePredicate => p !== null)
        if (parts.length === 0) return null
        if (parts.length === 1) return parts[0] as FilePredicate
        return (f) => parts.every((p) => p(f))
      }
      case 'or': {
        const parts = e.args.map(compile)
        if (parts.some((p) => p === null)) return null
        const ps = parts as FilePredicate[]
        return (f) => ps.some((p) => p(f))
      }
      case 'in':
        return compile({ op: 'or', args: e.values.map((v) => ({ op: 'eq', column: e.column, value: v })) })
      default:
        return leaf(e)
    }
  }
  return compile(filter) ?? KEEP
}

/**
 * Compiles a filter into a test of data files' partition values: the columns, literals and their transforms are
 * resolved once, so each file costs a few map lookups and comparisons. True unless the partition values prove that
 * no row of the file can match (conservative: unknown columns, transforms and operators keep the file).
 */
export function compilePartitionFilter(
  spec: PartitionSpec,
  schema: Schema,
  filter: Expression,
): FilePredicate {
  return compileTree(filter, (e) => {
    switch (e.op) {
      case 'not':
      case 'neq':
        return null
      case 'isNull':
      case 'notNull': {
        const col = schema.fields.find((f) => f.name === e.column)
        if (!col) return null
        const ids = spec.fields
          .filter((pf) => pf['source-id'] === col.id && parseTransform(pf.transform).kind !== 'void')
          .map((pf) => pf['field-id'])
        if (ids.length === 0) return null
        const wantNull = e.op === 'isNull'
        return (file) => {
          for (const id of ids) {
            if (!file.partition.has(id)) continue
            if ((file.partition.get(id) === null) !== wantNull) return false
          }
          return true
        }
      }
      case 'eq':
      case 'lt':
      case 'lte':
      case 'gt':
      case 'gte': {
        const op = e.op
        const col = schema.fields.find((f) => f.name === e.column)
        if (!col || typeof col.type !== 'string') return null
        let lit: IcebergValue
        try {
          lit = toIcebergValue(col.type, e.value)
        } catch {
          return null
        }
        const checks: { id: number; test: (pv: IcebergValue) => boolean }[] = []
        for (const pf of spec.fields) {
          if (pf['source-id'] !== col.id) continue
          const t = parseTransform(pf.transform)
          // A void field holds null whatever the row's value: it proves nothing.
          if (t.kind === 'void') continue
          const projected = applyTransform(t, col.type, lit)
          const id = pf['field-id']
          if (projected === null) {
            checks.push({ id, test: (pv) => pv !== null })
          } else if (t.kind === 'identity') {
            checks.push({ id, test: (pv) => pv !== null && cmpOk(op, compareIcebergValues(pv, projected)) })
          } else if (t.kind === 'bucket') {
            checks.push({
              id,
              test: (pv) => pv !== null && (op !== 'eq' || compareIcebergValues(pv, projected) === 0),
            })
          } else if (isOrderPreserving(t)) {
            checks.push({
              id,
              test: (pv) => {
                if (pv === null) return false
                const c = compareIcebergValues(pv, projected)
                if (op === 'eq') return c === 0
                if (op === 'lt' || op === 'lte') return c <= 0
                return c >= 0
              },
            })
          } else {
            checks.push({ id, test: (pv) => pv !== null })
          }
        }
        if (checks.length === 0) return null
        return (file) => {
          for (const { id, test } of checks) {
            if (!file.partition.has(id)) continue
            if (!test(file.partition.get(id) ?? null)) return false
          }
          return true
        }
      }
      default:
        return null
    }
  })
}

/**
 * True unless the file's partition values prove that no row of the file can match the filter (conservative: unknown
 * columns, transforms and operators keep the file). To test many files, compile once with
 * {@link compilePartitionFilter}.
 */
export function partitionMightMatch(
  file: DataFile,
  spec: PartitionSpec,
  schema: Schema,
  filter: Expression,
): boolean {
  return compilePartitionFilter(spec, schema, filter)(file)
}

/**
 * Compiles a filter into a test of data files' column bounds and null counts: columns and literals are resolved
 * once, and a file's bound is decoded only for the columns the filter compares. True unless the statistics prove
 * that no row can match.
 */
export function compileBoundsFilter(schema: Schema, filter: Expression): FilePredicate {
  const colOf = (name: string) => schema.fields.find((f) => f.name === name)
  return compileTree(filter, (e) => {
    switch (e.op) {
      case 'not':
      case 'neq':
        return null
      case 'isNull': {
        const col = colOf(e.column)
        if (!col) return null
        const id = col.id
        return (file) => {
          const n = file.nullValueCounts?.get(id)
          return n === undefined || n > 0
        }
      }
      case 'notNull': {
        const col = colOf(e.column)
        if (!col) return null
        const id = col.id
        return (file) => {
          const n = file.nullValueCounts?.get(id)
          const v = file.valueCounts?.get(id)
          return n === undefined || v === undefined || v > n
        }
      }
      case 'eq':
      case 'lt':
      case 'lte':
      case 'gt':
      case 'gte': {
        const op = e.op
        const col = colOf(e.column)
        if (!col || typeof col.type !== 'string') return null
        const type = col.type
        if (type === 'float' || type === 'double') return null
        let lit: IcebergValue
        try {
          lit = toIcebergValue(type, e.value as Literal)
        } catch {
          return null
        }
        const id = col.id
        const isStr = type === 'string' || type === 'binary'
        return (file) => {
          const nulls = file.nullValueCounts?.get(id)
          const values = file.valueCounts?.get(id)
          if (nulls !== undefined && values !== undefined && values > 0 && nulls === values) return false
          const loB = file.lowerBounds?.get(id)
          if (loB !== undefined && (op === 'eq' || op === 'lte' || op === 'lt')) {
            const lo = decodeSingleValue(type, loB)
            if (lo !== null) {
              const c = compareIcebergValues(lit, lo)
              if ((op === 'eq' || op === 'lte') && c < 0) return false
              if (op === 'lt' && c <= 0) return false
            }
          }
          const hiB = file.upperBounds?.get(id)
          if (hiB !== undefined && (op === 'eq' || op === 'gte' || op === 'gt')) {
            const hi = decodeSingleValue(type, hiB)
            if (hi !== null) {
              const c = compareIcebergValues(lit, hi)
              // String upper bounds may be truncated-and-incremented: only a strict excess proves absence.
              if (isStr) {
                if (c > 0) return false
              } else {
                if ((op === 'eq' || op === 'gte') && c > 0) return false
                if (op === 'gt' && c >= 0) return false
              }
            }
          }
          return true
        }
      }
      default:
        return null
    }
  })
}

/**
 * True unless the file's column bounds and null counts prove that no row can match the filter. To test many files,
 * compile once with {@link compileBoundsFilter}.
 */
export function boundsMightMatch(file: DataFile, schema: Schema, filter: Expression): boolean {
  return compileBoundsFilter(schema, filter)(file)
}

/**
 * What a compiled bounds filter says of one manifest: false when no file of it can match, true when it cannot rule
 * any out, else a test of the entry at an index.
 */
export type ManifestSelection = boolean | ((index: number) => boolean)

/**
 * A filter compiled against column bounds, applied to a whole manifest at a time (see
 * {@link compileManifestBoundsFilter}).
 */
export type ManifestBoundsFilter = (view: ManifestView) => ManifestSelection

function andSelections(parts: readonly ManifestSelection[]): ManifestSelection {
  if (parts.includes(false)) return false
  const tests = parts.filter((p): p is (i: number) => boolean => p !== true)
  if (tests.length === 0) return true
  if (tests.length === 1) return tests[0] as (i: number) => boolean
  return (i) => tests.every((t) => t(i))
}

function orSelections(parts: readonly ManifestSelection[]): ManifestSelection {
  if (parts.includes(true)) return true
  const tests = parts.filter((p): p is (i: number) => boolean => p !== false)
  if (tests.length === 0) return false
  if (tests.length === 1) return tests[0] as (i: number) => boolean
  return (i) => tests.some((t) => t(i))
}

/**
 * Compiles a filter against column bounds and null counts for whole manifests: the same answers as
 * {@link compileBoundsFilter} file by file, but a manifest's bounds are decoded once (and kept with the cached
 * manifest), and a manifest whose smallest lower bound or largest upper bound already rules the filter out is skipped
 * without looking at its files.
 */
export function compileManifestBoundsFilter(schema: Schema, filter: Expression): ManifestBoundsFilter {
  const colOf = (name: string) => schema.fields.find((f) => f.name === name)
  const compile = (e: Expression): ManifestBoundsFilter => {
    switch (e.op) {
      case 'true':
      case 'not':
      case 'neq':
        return () => true
      case 'and': {
        const parts = e.args.map(compile)
        return (v) => andSelections(parts.map((p) => p(v)))
      }
      case 'or': {
        const parts = e.args.map(compile)
        return (v) => orSelections(parts.map((p) => p(v)))
      }
      case 'in':
        return compile({ op: 'or', args: e.values.map((x) => ({ op: 'eq', column: e.column, value: x })) })
      case 'isNull':
      case 'notNull': {
        const col = colOf(e.column)
        if (!col) return () => true
        const id = col.id
        const isNull = e.op === 'isNull'
        return (v) => (i) => {
          const f = (v.entries[i] as ResolvedEntry).dataFile
          const n = f.nullValueCounts?.get(id)
          if (isNull) return n === undefined || n > 0
          const c = f.valueCounts?.get(id)
          return n === undefined || c === undefined || c > n
        }
      }
      default: {
        const op = e.op
        const col = colOf(e.column)
        if (!col || typeof col.type !== 'string') return () => true
        const type = col.type
        if (type === 'float' || type === 'double') return () => true
        let lit: IcebergValue
        try {
          lit = toIcebergValue(type, e.value as Literal)
        } catch {
          return () => true
        }
        const id = col.id
        const isStr = type === 'string' || type === 'binary'
        const usesLower = op === 'eq' || op === 'lte' || op === 'lt'
        const usesUpper = op === 'eq' || op === 'gte' || op === 'gt'
        const lowerRulesOut = (lo: IcebergValue): boolean => {
          const c = compareIcebergValues(lit, lo)
          return op === 'lt' ? c <= 0 : c < 0
        }
        // String upper bounds may be truncated-and-incremented: only a strict excess proves absence.
        const upperRulesOut = (hi: IcebergValue): boolean => {
          const c = compareIcebergValues(lit, hi)
          return isStr || op !== 'gt' ? c > 0 : c >= 0
        }
        return (v) => {
          const s = v.columnStats(id, type)
          if (usesLower && s.minLower !== undefined && lowerRulesOut(s.minLower)) return false
          if (usesUpper && s.maxUpper !== undefined && upperRulesOut(s.maxUpper)) return false
          return (i) => {
            if (s.allNull[i]) return false
            const lo = s.lower[i]
            if (usesLower && lo !== undefined && lowerRulesOut(lo)) return false
            const hi = s.upper[i]
            return !(usesUpper && hi !== undefined && upperRulesOut(hi))
          }
        }
      }
    }
  }
  return compile(filter)
}

/**
 * True unless a manifest's partition summaries (per partition field: contains-null and lower/upper bounds) prove that
 * none of its files can match the filter. Lets a scan skip whole manifests.
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
