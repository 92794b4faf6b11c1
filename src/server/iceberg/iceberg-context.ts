import type { FastifyReply, FastifyRequest } from 'fastify'
import { serializeTableMetadata, type TableMetadata } from '../../iceberg/table-metadata.js'
import type { IcebergCatalog, IcebergTable } from '../../lake/iceberg-catalog.js'
import type { LakeApi } from '../../lake/lake-api.js'
import { TarnError } from '../../util/errors.js'
import { type JsonValue, stringifyJsonLossless } from '../../util/lossless-json.js'
import type { RouteContext } from '../route-context.js'

/**
 * What the Iceberg REST handlers share: the server's route context (access checks, the caller's lake), the ref a
 * request addresses (its `{prefix}`, or the server's active branch on prefix-less paths), and a log line sink.
 */
export interface IcebergContext {
  readonly ctx: RouteContext
  ref(req: FastifyRequest): string
  log(line: string): void
}

type WithIceberg = LakeApi & { icebergCatalog(): IcebergCatalog }

/**
 * The Iceberg catalog of the caller's lake handle (its commits carry the caller's key name). Call after authorize.
 */
export function icebergOf(ic: IcebergContext, req: FastifyRequest): IcebergCatalog {
  const lake = ic.ctx.lake(req) as Partial<WithIceberg>
  if (typeof lake.icebergCatalog !== 'function') {
    throw new TarnError('NOT_SUPPORTED', 'this server lake has no Iceberg catalog', {})
  }
  return lake.icebergCatalog()
}

/**
 * The single-level namespace a path segment names (levels are joined by the unit separator `\x1f`, as PyIceberg and
 * Iceberg's Java client send them); `INVALID_NAME` for more than one level: tarn namespaces have one.
 */
export function namespaceOf(segment: string | readonly string[]): string {
  const levels = typeof segment === 'string' ? segment.split('\x1f') : segment
  if (levels.length !== 1 || levels[0] === undefined || levels[0] === '') {
    throw new TarnError(
      'INVALID_NAME',
      `tarn namespaces have exactly one level, got ${JSON.stringify(levels)}`,
      {
        namespace: levels.join('.'),
      },
    )
  }
  return levels[0]
}

/**
 * Sends JSON that may hold 64-bit integers (snapshot ids) exactly.
 */
export function sendJson(reply: FastifyReply, status: number, text: string | JsonValue): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send(typeof text === 'string' ? text : stringifyJsonLossless(text))
}

/**
 * The JSON text of a `LoadTableResult`: metadata location (absent for a staged create), metadata (with `snapshots`
 * `refs`, only the snapshots a ref points at) and table config.
 */
export function loadTableResult(
  t: IcebergTable,
  config: Readonly<Record<string, string>>,
  options: { readonly snapshots?: 'all' | 'refs' } = {},
): string {
  let m: TableMetadata = t.metadata
  if (options.snapshots === 'refs') {
    const kept = new Set(Object.values(m.refs).map((r) => r['snapshot-id']))
    m = { ...m, snapshots: m.snapshots.filter((s) => kept.has(s['snapshot-id'])) }
  }
  const location =
    t.metadataLocation === undefined ? '' : `"metadata-location":${JSON.stringify(t.metadataLocation)},`
  return `{${location}"metadata":${serializeTableMetadata(m, 0)},"config":${JSON.stringify(config)}}`
}

/**
 * The JSON text of a `CommitTableResponse`: the new metadata location and metadata.
 */
export function commitTableResult(t: IcebergTable): string {
  return `{"metadata-location":${JSON.stringify(t.metadataLocation ?? '')},"metadata":${serializeTableMetadata(t.metadata, 0)}}`
}

/**
 * One page of a sorted listing: without `pageToken` everything (and no next token); with it (even empty), up to
 * `pageSize` names after the token, and the token of the next page or null at the end.
 */
export function page(
  names: readonly string[],
  q: { readonly pageToken?: string; readonly pageSize?: string },
): { items: readonly string[]; next?: string | null } {
  if (q.pageToken === undefined) return { items: names }
  const size = q.pageSize === undefined ? 1000 : Number(q.pageSize)
  if (!Number.isInteger(size) || size <= 0) {
    throw new TarnError('USAGE', `pageSize must be a positive integer, got ${q.pageSize}`, {})
  }
  const after = q.pageToken === '' ? undefined : Buffer.from(q.pageToken, 'base64url').toString('utf8')
  const start = after === undefined ? 0 : names.findIndex((n) => n > after)
  const from = start < 0 ? names.length : start
  const items = names.slice(from, from + size)
  const last = items[items.length - 1]
  const more = from + size < names.length && last !== undefined
  return { items, next: more ? Buffer.from(last, 'utf8').toString('base64url') : null }
}
