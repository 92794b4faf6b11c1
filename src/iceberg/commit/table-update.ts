import { TarnError } from '../../util/errors.js'
import { type JsonObject, type JsonValue, jsonToBigInt } from '../../util/lossless-json.js'
import { type PartitionSpec, type SortOrder, sameSpecShape } from '../partition-spec.js'
import { maxFieldId, type Schema, sameSchemaShape } from '../schema.js'
import { parseSnapshot, type Snapshot, type SnapshotRef, type TableMetadata } from '../table-metadata.js'

/**
 * One update of an Iceberg commit (the REST spec's `TableUpdate`, every table action). Plain data;
 * {@link applyTableUpdates} applies a list of them to table metadata.
 */
export type TableUpdate =
  | { readonly action: 'assign-uuid'; readonly uuid: string }
  | { readonly action: 'upgrade-format-version'; readonly formatVersion: number }
  | { readonly action: 'add-schema'; readonly schema: Schema; readonly lastColumnId?: number }
  | { readonly action: 'set-current-schema'; readonly schemaId: number }
  | { readonly action: 'add-spec'; readonly spec: PartitionSpec }
  | { readonly action: 'set-default-spec'; readonly specId: number }
  | { readonly action: 'add-sort-order'; readonly sortOrder: SortOrder }
  | { readonly action: 'set-default-sort-order'; readonly sortOrderId: number }
  | { readonly action: 'add-snapshot'; readonly snapshot: Snapshot }
  | { readonly action: 'set-snapshot-ref'; readonly refName: string; readonly ref: SnapshotRef }
  | { readonly action: 'remove-snapshots'; readonly snapshotIds: readonly bigint[] }
  | { readonly action: 'remove-snapshot-ref'; readonly refName: string }
  | { readonly action: 'set-location'; readonly location: string }
  | { readonly action: 'set-properties'; readonly updates: Readonly<Record<string, string>> }
  | { readonly action: 'remove-properties'; readonly removals: readonly string[] }
  | { readonly action: 'set-statistics'; readonly statistics: JsonObject }
  | { readonly action: 'remove-statistics'; readonly snapshotId: bigint }
  | { readonly action: 'set-partition-statistics'; readonly partitionStatistics: JsonObject }
  | { readonly action: 'remove-partition-statistics'; readonly snapshotId: bigint }
  | { readonly action: 'remove-partition-specs'; readonly specIds: readonly number[] }
  | { readonly action: 'remove-schemas'; readonly schemaIds: readonly number[] }
  | { readonly action: 'add-encryption-key'; readonly encryptionKey: JsonObject }
  | { readonly action: 'remove-encryption-key'; readonly keyId: string }

function bad(message: string): TarnError {
  return new TarnError('INVALID_ARGUMENT', message, {})
}

const obj = (v: JsonValue | undefined, what: string): JsonObject => {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v))
    throw bad(`${what} must be an object`)
  return v as JsonObject
}
const int = (v: JsonValue | undefined, what: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(`${what} must be an integer`)
  return v
}
const str = (v: JsonValue | undefined, what: string): string => {
  if (typeof v !== 'string') throw bad(`${what} must be a string`)
  return v
}
const long = (v: JsonValue | undefined, what: string): bigint => {
  const b = jsonToBigInt(v)
  if (b === undefined) throw bad(`${what} must be an integer`)
  return b
}
const list = (v: JsonValue | undefined, what: string): readonly JsonValue[] => {
  if (!Array.isArray(v)) throw bad(`${what} must be an array`)
  return v as readonly JsonValue[]
}
const strings = (v: JsonValue | undefined, what: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(obj(v, what))) out[k] = str(x, `${what}.${k}`)
  return out
}

/**
 * Reads an update from its JSON (as the REST spec spells it); `INVALID_ARGUMENT` for an unknown action or a missing
 * field. View actions are refused: tarn serves tables.
 */
export function parseTableUpdate(v: JsonValue): TableUpdate {
  const o = obj(v, 'an update')
  const action = o.action
  switch (action) {
    case 'assign-uuid':
      return { action, uuid: str(o.uuid, 'uuid') }
    case 'upgrade-format-version':
      return { action, formatVersion: int(o['format-version'], 'format-version') }
    case 'add-schema':
      return {
        action,
        schema: obj(o.schema, 'schema') as unknown as Schema,
        ...(typeof o['last-column-id'] === 'number' ? { lastColumnId: o['last-column-id'] } : {}),
      }
    case 'set-current-schema':
      return { action, schemaId: int(o['schema-id'], 'schema-id') }
    case 'add-spec':
      return { action, spec: obj(o.spec, 'spec') as unknown as PartitionSpec }
    case 'set-default-spec':
      return { action, specId: int(o['spec-id'], 'spec-id') }
    case 'add-sort-order':
      return { action, sortOrder: obj(o['sort-order'], 'sort-order') as unknown as SortOrder }
    case 'set-default-sort-order':
      return { action, sortOrderId: int(o['sort-order-id'], 'sort-order-id') }
    case 'add-snapshot':
      return { action, snapshot: parseSnapshot(obj(o.snapshot, 'snapshot')) }
    case 'set-snapshot-ref': {
      const type = o.type === 'tag' ? 'tag' : o.type === 'branch' ? 'branch' : undefined
      if (type === undefined) throw bad('set-snapshot-ref needs type branch or tag')
      const ref: SnapshotRef = {
        'snapshot-id': long(o['snapshot-id'], 'snapshot-id'),
        type,
        ...(typeof o['max-ref-age-ms'] === 'number' ? { 'max-ref-age-ms': o['max-ref-age-ms'] } : {}),
        ...(typeof o['max-snapshot-age-ms'] === 'number'
          ? { 'max-snapshot-age-ms': o['max-snapshot-age-ms'] }
          : {}),
        ...(typeof o['min-snapshots-to-keep'] === 'number'
          ? { 'min-snapshots-to-keep': o['min-snapshots-to-keep'] }
          : {}),
      }
      return { action, refName: str(o['ref-name'], 'ref-name'), ref }
    }
    case 'remove-snapshots':
      return {
        action,
        snapshotIds: list(o['snapshot-ids'], 'snapshot-ids').map((x) => long(x, 'snapshot-ids')),
      }
    case 'remove-snapshot-ref':
      return { action, refName: str(o['ref-name'], 'ref-name') }
    case 'set-location':
      return { action, location: str(o.location, 'location') }
    case 'set-properties':
      return { action, updates: strings(o.updates, 'updates') }
    case 'remove-properties':
      return { action, removals: list(o.removals, 'removals').map((x) => str(x, 'removals')) }
    case 'set-statistics':
      return { action, statistics: obj(o.statistics, 'statistics') }
    case 'remove-statistics':
      return { action, snapshotId: long(o['snapshot-id'], 'snapshot-id') }
    case 'set-partition-statistics':
      return { action, partitionStatistics: obj(o['partition-statistics'], 'partition-statistics') }
    case 'remove-partition-statistics':
      return { action, snapshotId: long(o['snapshot-id'], 'snapshot-id') }
    case 'remove-partition-specs':
      return { action, specIds: list(o['spec-ids'], 'spec-ids').map((x) => int(x, 'spec-ids')) }
    case 'remove-schemas':
      return { action, schemaIds: list(o['schema-ids'], 'schema-ids').map((x) => int(x, 'schema-ids')) }
    case 'add-encryption-key':
      return { action, encryptionKey: obj(o['encryption-key'], 'encryption-key') }
    case 'remove-encryption-key':
      return { action, keyId: str(o['key-id'], 'key-id') }
    default:
      throw bad(`unknown or unsupported table update ${JSON.stringify(action)}`)
  }
}

/**
 * Table metadata with nothing in it yet: the base a create transaction (`assert-create`) builds on with its updates
 * (assign-uuid, add-schema, add-spec, set-location, ...).
 */
export const EMPTY_TABLE_METADATA: TableMetadata = Object.freeze({
  'format-version': 2,
  'table-uuid': '',
  location: '',
  'last-sequence-number': 0,
  'last-updated-ms': 0,
  'last-column-id': 0,
  schemas: [],
  'current-schema-id': -1,
  'partition-specs': [],
  'default-spec-id': -1,
  'last-partition-id': 999,
  properties: {},
  'current-snapshot-id': null,
  snapshots: [],
  'snapshot-log': [],
  'metadata-log': [],
  'sort-orders': [],
  'default-sort-order-id': -1,
  refs: {},
}) as TableMetadata

const snapshotIdOf = (stat: JsonValue): bigint | undefined =>
  jsonToBigInt((stat as JsonObject | null)?.['snapshot-id'])

/**
 * Applies an Iceberg commit's updates to table metadata, in order, as Iceberg's metadata builder does: added schemas,
 * specs and sort orders reuse an existing id when an equal one exists (else take the next id), `-1` means "the last
 * one added", a snapshot must be newer than the table's last sequence number, moving `main` moves the current
 * snapshot (and the snapshot log), removing snapshots removes the refs that point at them. Throws `INVALID_ARGUMENT`
 * for an update that cannot apply (an unknown schema id, a duplicate snapshot, removing the current schema, ...)
 * and `NOT_SUPPORTED` for format version 3. Returns the new metadata; the input is not changed.
 */
export function applyTableUpdates(
  base: TableMetadata,
  updates: readonly TableUpdate[],
  options: { readonly now: number },
): TableMetadata {
  let m: TableMetadata = base
  let lastSchema: number | undefined
  let lastSpec: number | undefined
  let lastOrder: number | undefined
  const addedSnapshots = new Set<bigint>()
  const set = (patch: Partial<TableMetadata>): void => {
    m = { ...m, ...patch } as TableMetadata
  }
  for (const u of updates) {
    switch (u.action) {
      case 'assign-uuid':
        if (m['table-uuid'] !== '' && m['table-uuid'] !== u.uuid) {
          throw bad(`cannot reassign the table uuid ${m['table-uuid']} to ${u.uuid}`)
        }
        set({ 'table-uuid': u.uuid })
        break
      case 'upgrade-format-version':
        if (u.formatVersion < m['format-version']) {
          throw bad(`cannot downgrade format version ${m['format-version']} to ${u.formatVersion}`)
        }
        if (u.formatVersion > 2) {
          throw new TarnError(
            'NOT_SUPPORTED',
            `format version ${u.formatVersion} is not supported: tarn writes v2`,
            {
              formatVersion: u.formatVersion,
            },
          )
        }
        set({ 'format-version': u.formatVersion as 1 | 2 })
        break
      case 'add-schema': {
        const same = m.schemas.find((s) => sameSchemaShape(s, u.schema))
        const id = same ? same['schema-id'] : Math.max(-1, ...m.schemas.map((s) => s['schema-id'])) + 1
        const lastColumnId = Math.max(m['last-column-id'], maxFieldId(u.schema), u.lastColumnId ?? 0)
        set({
          schemas: same ? m.schemas : [...m.schemas, { ...u.schema, 'schema-id': id }],
          'last-column-id': lastColumnId,
        })
        lastSchema = id
        break
      }
      case 'set-current-schema': {
        const id = u.schemaId === -1 ? lastSchema : u.schemaId
        if (id === undefined) throw bad('set-current-schema -1 needs an add-schema before it')
        if (!m.schemas.some((s) => s['schema-id'] === id)) throw bad(`the table has no schema ${id}`)
        set({ 'current-schema-id': id })
        break
      }
      case 'add-spec': {
        const same = m['partition-specs'].find((s) => sameSpecShape(s, u.spec))
        const id = same ? same['spec-id'] : Math.max(-1, ...m['partition-specs'].map((s) => s['spec-id'])) + 1
        set({
          'partition-specs': same
            ? m['partition-specs']
            : [...m['partition-specs'], { ...u.spec, 'spec-id': id }],
          'last-partition-id': Math.max(m['last-partition-id'], ...u.spec.fields.map((f) => f['field-id'])),
        })
        lastSpec = id
        break
      }
      case 'set-default-spec': {
        const id = u.specId === -1 ? lastSpec : u.specId
        if (id === undefined) throw bad('set-default-spec -1 needs an add-spec before it')
        if (!m['partition-specs'].some((s) => s['spec-id'] === id))
          throw bad(`the table has no partition spec ${id}`)
        set({ 'default-spec-id': id })
        break
      }
      case 'add-sort-order': {
        const key = JSON.stringify(u.sortOrder.fields)
        const same = m['sort-orders'].find((s) => JSON.stringify(s.fields) === key)
        const id = same
          ? same['order-id']
          : u.sortOrder.fields.length === 0
            ? 0
            : Math.max(0, ...m['sort-orders'].map((s) => s['order-id'])) + 1
        set({
          'sort-orders': same ? m['sort-orders'] : [...m['sort-orders'], { ...u.sortOrder, 'order-id': id }],
        })
        lastOrder = id
        break
      }
      case 'set-default-sort-order': {
        const id = u.sortOrderId === -1 ? lastOrder : u.sortOrderId
        if (id === undefined) throw bad('set-default-sort-order -1 needs an add-sort-order before it')
        if (!m['sort-orders'].some((s) => s['order-id'] === id))
          throw bad(`the table has no sort order ${id}`)
        set({ 'default-sort-order-id': id })
        break
      }
      case 'add-snapshot': {
        const s = u.snapshot
        if (m.snapshots.some((x) => x['snapshot-id'] === s['snapshot-id'])) {
          throw bad(`the table already has snapshot ${s['snapshot-id']}`)
        }
        if (
          m['format-version'] >= 2 &&
          s['sequence-number'] <= m['last-sequence-number'] &&
          s['parent-snapshot-id'] !== undefined
        ) {
          throw new TarnError(
            'COMMIT_REQUIREMENT_FAILED',
            `snapshot ${s['snapshot-id']} has sequence number ${s['sequence-number']}, not above the table's last ${m['last-sequence-number']}`,
            { snapshotId: s['snapshot-id'].toString() },
          )
        }
        set({
          snapshots: [...m.snapshots, s],
          'last-sequence-number': Math.max(m['last-sequence-number'], s['sequence-number']),
          'last-updated-ms': s['timestamp-ms'],
        })
        addedSnapshots.add(s['snapshot-id'])
        break
      }
      case 'set-snapshot-ref': {
        const id = u.ref['snapshot-id']
        const snap = m.snapshots.find((x) => x['snapshot-id'] === id)
        if (!snap) throw bad(`the table has no snapshot ${id}`)
        set({ refs: { ...m.refs, [u.refName]: u.ref } })
        if (u.refName === 'main') {
          if (u.ref.type !== 'branch') throw bad('main must be a branch')
          const at = addedSnapshots.has(id) ? snap['timestamp-ms'] : options.now
          set({
            'current-snapshot-id': id,
            'snapshot-log': [...m['snapshot-log'], { 'timestamp-ms': at, 'snapshot-id': id }],
          })
        }
        break
      }
      case 'remove-snapshots': {
        const gone = new Set(u.snapshotIds)
        const refs = Object.fromEntries(Object.entries(m.refs).filter(([, r]) => !gone.has(r['snapshot-id'])))
        const current = m['current-snapshot-id']
        set({
          snapshots: m.snapshots.filter((s) => !gone.has(s['snapshot-id'])),
          refs,
          'current-snapshot-id': current !== null && gone.has(current) ? null : current,
          'snapshot-log': m['snapshot-log'].filter((e) => !gone.has(e['snapshot-id'])),
          ...(m.statistics
            ? { statistics: m.statistics.filter((s) => !gone.has(snapshotIdOf(s) ?? -1n)) }
            : {}),
          ...(m['partition-statistics']
            ? {
                'partition-statistics': m['partition-statistics'].filter(
                  (s) => !gone.has(snapshotIdOf(s) ?? -1n),
                ),
              }
            : {}),
        })
        break
      }
      case 'remove-snapshot-ref': {
        const { [u.refName]: _gone, ...rest } = m.refs
        set({ refs: rest, ...(u.refName === 'main' ? { 'current-snapshot-id': null } : {}) })
        break
      }
      case 'set-location':
        set({ location: u.location.replace(/\/+$/, '') })
        break
      case 'set-properties':
        set({ properties: { ...m.properties, ...u.updates } })
        break
      case 'remove-properties': {
        const gone = new Set(u.removals)
        set({ properties: Object.fromEntries(Object.entries(m.properties).filter(([k]) => !gone.has(k))) })
        break
      }
      case 'set-statistics': {
        const id = snapshotIdOf(u.statistics)
        set({ statistics: [...(m.statistics ?? []).filter((s) => snapshotIdOf(s) !== id), u.statistics] })
        break
      }
      case 'remove-statistics':
        set({ statistics: (m.statistics ?? []).filter((s) => snapshotIdOf(s) !== u.snapshotId) })
        break
      case 'set-partition-statistics': {
        const id = snapshotIdOf(u.partitionStatistics)
        set({
          'partition-statistics': [
            ...(m['partition-statistics'] ?? []).filter((s) => snapshotIdOf(s) !== id),
            u.partitionStatistics,
          ],
        })
        break
      }
      case 'remove-partition-statistics':
        set({
          'partition-statistics': (m['partition-statistics'] ?? []).filter(
            (s) => snapshotIdOf(s) !== u.snapshotId,
          ),
        })
        break
      case 'remove-partition-specs':
        if (u.specIds.includes(m['default-spec-id'])) throw bad(`cannot remove the default partition spec`)
        set({ 'partition-specs': m['partition-specs'].filter((s) => !u.specIds.includes(s['spec-id'])) })
        break
      case 'remove-schemas':
        if (u.schemaIds.includes(m['current-schema-id'])) throw bad('cannot remove the current schema')
        set({ schemas: m.schemas.filter((s) => !u.schemaIds.includes(s['schema-id'])) })
        break
      case 'add-encryption-key': {
        const id = u.encryptionKey['key-id']
        set({
          'encryption-keys': [
            ...(m['encryption-keys'] ?? []).filter((k) => (k as JsonObject | null)?.['key-id'] !== id),
            u.encryptionKey,
          ],
        })
        break
      }
      case 'remove-encryption-key':
        set({
          'encryption-keys': (m['encryption-keys'] ?? []).filter(
            (k) => (k as JsonObject | null)?.['key-id'] !== u.keyId,
          ),
        })
        break
    }
  }
  if (updates.length > 0 && !updates.some((u) => u.action === 'add-snapshot'))
    set({ 'last-updated-ms': options.now })
  return m
}
