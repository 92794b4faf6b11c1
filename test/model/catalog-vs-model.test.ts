import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Catalog, type CatalogBackend, PostgresBackend, SqliteBackend } from '../../src/catalog/index.js'
import { fixedClock } from '../../src/util/clock.js'
import { isTarnError } from '../../src/util/errors.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'
import { testScale, testSeed } from '../helpers/test-seed.js'
import { type Outcome, ReferenceModel } from './reference-model.js'

const BRANCHES = ['main', 'dev', 'feat.x', 'v1']
const TABLES = ['a', 'b', 'c']

type Op =
  | { op: 'branch'; name: string; from: string }
  | { op: 'tag'; name: string; from: string }
  | { op: 'rmBranch'; name: string }
  | { op: 'put'; branch: string; table: string }
  | { op: 'drop'; branch: string; table: string }
  | { op: 'merge'; source: string; into: string }
  | { op: 'revert'; of: string; on: string }
  | { op: 'seal'; branch: string }

const name = fc.constantFrom(...BRANCHES)
const table = fc.constantFrom(...TABLES)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('branch' as const), name, from: name }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('tag' as const), name, from: name }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rmBranch' as const), name }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('put' as const), branch: name, table }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), branch: name, table }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('merge' as const), source: name, into: name }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('revert' as const), of: name, on: name }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('seal' as const), branch: name }) },
)

const state = (v: string) => ({ metadataLocation: v, snapshotId: null, schemaId: 0, tableUuid: 'u' })

async function attempt(p: Promise<unknown>, withKind = false): Promise<Outcome> {
  try {
    const r = (await p) as { kind?: string }
    return withKind && typeof r.kind === 'string' ? { ok: true, kind: r.kind } : { ok: true }
  } catch (e) {
    if (isTarnError(e)) return { ok: false, code: e.code }
    throw e
  }
}

async function apply(catalog: Catalog, model: ReferenceModel, o: Op, n: number): Promise<[Outcome, Outcome]> {
  const v = `v${n}`
  switch (o.op) {
    case 'branch':
      return [
        model.createRef('branch', o.name, o.from),
        await attempt(catalog.createBranch(o.name, { from: o.from })),
      ]
    case 'tag':
      return [
        model.createRef('tag', o.name, o.from),
        await attempt(catalog.createTag(o.name, { from: o.from })),
      ]
    case 'rmBranch':
      return [model.deleteBranch(o.name), await attempt(catalog.deleteBranch(o.name))]
    case 'put':
      return [
        model.write(o.branch, `tarn.${o.table}`, v),
        await attempt(
          catalog.commit({
            branch: o.branch,
            changes: [{ type: 'putTable', key: o.table, state: state(v) }],
            message: v,
          }),
        ),
      ]
    case 'drop':
      return [
        model.write(o.branch, `tarn.${o.table}`, null),
        await attempt(
          catalog.commit({ branch: o.branch, changes: [{ type: 'dropTable', key: o.table }], message: v }),
        ),
      ]
    case 'merge':
      return [model.merge(o.source, o.into), await attempt(catalog.merge(o.source, { into: o.into }), true)]
    case 'revert':
      return [model.revertHead(o.of, o.on), await attempt(catalog.revert(o.of, { on: o.on }))]
    case 'seal':
      return [model.seal(o.branch), await attempt(catalog.sealBranch(o.branch))]
  }
}

async function observe(catalog: Catalog): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const b of await catalog.listBranches()) {
    const s = await catalog.state(b.name)
    out[`branch:${b.name}`] = Object.fromEntries(
      Object.entries(s.tables).map(([k, t]) => [k, t.metadataLocation]),
    )
  }
  for (const t of await catalog.listTags()) {
    const s = await catalog.state(t.name)
    out[`tag:${t.name}`] = Object.fromEntries(
      Object.entries(s.tables).map(([k, st]) => [k, st.metadataLocation]),
    )
  }
  return out
}

function observeModel(m: ReferenceModel): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [b, id] of m.branches) out[`branch:${b}`] = Object.fromEntries(m.commits[id]?.tables ?? [])
  for (const [t, id] of m.tags) out[`tag:${t}`] = Object.fromEntries(m.commits[id]?.tables ?? [])
  return out
}

const seed = testSeed(20261124)
const pg = await postgresUrl()

function run(label: string, make: () => CatalogBackend, numRuns: number): void {
  it(`agrees with the reference model on random operation sequences (${label})`, async () => {
    let states = 0
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 30 }), async (ops) => {
        const catalog = new Catalog(make(), { clock: fixedClock(Date.parse('2026-01-01T00:00:00Z'), 1000) })
        await catalog.init()
        const model = new ReferenceModel()
        try {
          let n = 0
          for (const o of ops) {
            const [expected, actual] = await apply(catalog, model, o, n++)
            if (model.ambiguous && actual.ok && 'into' in o) {
              const s = await catalog.state(o.into)
              model.adopt(o.into, new Map(Object.entries(s.tables).map(([k, t]) => [k, t.metadataLocation])))
            }
            expect(actual, JSON.stringify(o)).toEqual(expected)
            expect(await observe(catalog)).toEqual(observeModel(model))
            states++
          }
        } finally {
          await catalog.close()
        }
      }),
      { numRuns: Math.round(numRuns * testScale()), seed },
    )
    console.log(`[model] ${label}: ${states} states compared (TARN_SEED=${seed})`)
  })
}

describe('the catalog against the reference model', () => {
  run('sqlite', () => SqliteBackend.open(':memory:'), 200)
  if (pg) run('postgres', () => PostgresBackend.open(freshSchemaUrl(pg, 'model')), 30)
  else it.skip('agrees with the reference model on PostgreSQL (no server)', () => undefined)
})
