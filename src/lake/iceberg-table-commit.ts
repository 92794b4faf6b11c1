import type { Catalog } from '../catalog/catalog.js'
import { parseTableKey } from '../catalog/names.js'
import type { Commit } from '../catalog/types.js'
import { checkRequirement, type TableRequirement } from '../iceberg/commit/table-requirement.js'
import { applyTableUpdates, EMPTY_TABLE_METADATA, type TableUpdate } from '../iceberg/commit/table-update.js'
import type { MetadataCache } from '../iceberg/metadata-cache.js'
import { nextMetadataLog } from '../iceberg/metadata-log.js'
import { type LoadedTable, loadTable } from '../iceberg/table-loader.js'
import type { TableMetadata } from '../iceberg/table-metadata.js'
import { writeMetadataFile } from '../iceberg/writer/snapshot-producer.js'
import type { ObjectStore } from '../storage/object-store.js'
import type { Clock } from '../util/clock.js'
import { isTarnError, TarnError } from '../util/errors.js'
import type { Random } from '../util/random.js'
import type { IcebergTable } from './iceberg-catalog.js'
import { notFoundTable } from './iceberg-errors.js'
import type { WarehousePaths } from './warehouse-paths.js'

/**
 * One table's part of an Iceberg commit: the requirements its state must meet and the updates to apply.
 *
 * @example
 * ```ts
 * const c: IcebergTableCommit = { table: 'sales.orders', requirements: [{ type: 'assert-create' }], updates }
 * ```
 */
export interface IcebergTableCommit {
  readonly table: string
  readonly requirements: readonly TableRequirement[]
  readonly updates: readonly TableUpdate[]
}

/**
 * The outcome of {@link IcebergCatalog.commitTables}: the new state of every table and the tarn commit, with how many
 * times the commit was rebuilt because another commit changed one of its tables meanwhile.
 *
 * @example
 * ```ts
 * const { commit, tables, attempts } = await iceberg.commitTables('dev', [change])
 * ```
 */
export interface IcebergCommitResult {
  readonly commit: Commit
  readonly tables: readonly IcebergTable[]
  readonly attempts: number
}

/** How many times a commit is rebuilt on a new head after another commit changed one of its tables. */
const MAX_REBUILDS = 4

/** What an Iceberg commit transaction works with: the catalog, the warehouse, and how the branch is checked. */
export interface IcebergCommitDeps {
  readonly catalog: Catalog
  readonly store: ObjectStore
  readonly clock: Clock
  readonly random: Random
  readonly author: string
  readonly paths: WarehousePaths
  /** The branch `ref` names and its head (`NOT_A_BRANCH` for a tag or commit). */
  readonly writableHead: (ref: string) => Promise<{ readonly branch: string; readonly head: Commit }>
  /** The lake's parsed metadata files: bases are taken from it, written files kept in it. */
  readonly metadataCache?: MetadataCache
}

/**
 * Commits Iceberg changes to tables of a branch as one tarn commit, all or nothing, rebuilding it on the new head
 * (requirements checked again) when another commit changed one of its tables meanwhile; see
 * {@link IcebergCatalog.commitTables}.
 */
export async function commitIcebergTables(
  deps: IcebergCommitDeps,
  branch: string,
  changes: readonly IcebergTableCommit[],
): Promise<IcebergCommitResult> {
  if (changes.length === 0) {
    throw new TarnError('INVALID_ARGUMENT', 'a commit needs at least one table change', { branch })
  }
  const keys = changes.map((c) => parseTableKey(c.table).key)
  const dup = keys.find((k, i) => keys.indexOf(k) !== i)
  if (dup !== undefined) {
    throw new TarnError('INVALID_ARGUMENT', `table ${dup} appears twice in one transaction`, { table: dup })
  }
  const cacheOption = deps.metadataCache ? { metadataCache: deps.metadataCache } : {}
  let b = branch
  for (let attempt = 1; ; attempt++) {
    const writable = await deps.writableHead(b)
    b = writable.branch
    const head = writable.head
    const bases = await Promise.all(
      keys.map(async (key) => {
        const state = await deps.catalog.getTable(head, key)
        return state ? loadTable(deps.store, state.metadataLocation, cacheOption) : undefined
      }),
    )
    // check every requirement before writing anything, so a failed transaction leaves no file behind
    changes.forEach((c, i) => {
      const key = keys[i] as string
      const base = bases[i]
      const creates = c.requirements.some((r) => r.type === 'assert-create')
      if (!base && !creates) throw notFoundTable(key, b)
      for (const r of c.requirements) checkRequirement(key, base?.metadata, r)
    })
    const now = deps.clock.now()
    const next = changes.map((c, i) => updatedMetadata(deps, keys[i] as string, bases[i], c.updates, now))
    const written = await Promise.all(
      next.map((m, i) =>
        writeMetadataFile(deps.store, deps.paths.rootKey(m.location), m, bases[i]?.metadataLocation, {
          clock: deps.clock,
          random: deps.random,
          ...cacheOption,
        }),
      ),
    )
    const operations = next
      .map((m, i) => {
        const before = bases[i]?.metadata['current-snapshot-id'] ?? null
        const snap = m.snapshots.find((s) => s['snapshot-id'] === m['current-snapshot-id'])
        return before !== m['current-snapshot-id'] && snap
          ? `${keys[i]} (${snap.summary.operation})`
          : keys[i]
      })
      .join(', ')
    try {
      const commit = await deps.catalog.commit({
        branch: b,
        changes: written.map((w, i) => ({ type: 'putTable', key: keys[i] as string, state: w.state })),
        message: `Iceberg: commit ${operations}`,
        author: deps.author,
        expectedHead: head.hash,
        properties: { 'tarn.operation': 'iceberg-commit', 'tarn.table': keys.join(',') },
      })
      return {
        commit,
        attempts: attempt,
        tables: written.map((w, i) => ({
          table: keys[i] as string,
          metadataLocation: w.metadataLocation,
          metadata: w.metadata,
        })),
      }
    } catch (e) {
      if (!isTarnError(e, 'BRANCH_HEAD_CHANGED') || attempt > MAX_REBUILDS) throw e
    }
  }
}

function updatedMetadata(
  deps: IcebergCommitDeps,
  key: string,
  base: LoadedTable | undefined,
  updates: readonly TableUpdate[],
  now: number,
): TableMetadata {
  let m = applyTableUpdates(base?.metadata ?? EMPTY_TABLE_METADATA, updates, { now })
  if (!base) {
    const ns = parseTableKey(key)
    if (m['current-schema-id'] < 0) {
      throw new TarnError('INVALID_ARGUMENT', `creating ${key} needs add-schema and set-current-schema`, {
        table: key,
      })
    }
    m = {
      ...m,
      'table-uuid': m['table-uuid'] || deps.random.uuid(),
      location: m.location || deps.paths.defaultLocation(ns.namespace, ns.name),
      ...(m['partition-specs'].length === 0
        ? { 'partition-specs': [{ 'spec-id': 0, fields: [] }], 'default-spec-id': 0 }
        : {}),
      ...(m['sort-orders'].length === 0
        ? { 'sort-orders': [{ 'order-id': 0, fields: [] }], 'default-sort-order-id': 0 }
        : {}),
      'last-updated-ms': Math.max(m['last-updated-ms'], now),
    }
  } else {
    m = {
      ...m,
      'metadata-log': nextMetadataLog(
        m['metadata-log'],
        { 'timestamp-ms': base.metadata['last-updated-ms'], 'metadata-file': base.metadataLocation },
        m.properties,
      ),
    }
  }
  deps.paths.location(m.location)
  return m
}
