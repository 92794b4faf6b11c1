import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyOp, initialState } from '../../spec/model/lake-model.js'
import { addedFiles } from '../../spec/model/table-value.js'
import type { LakeState, Op, Outcome, PlanStep, TableName, WriteMode } from '../../spec/model/types.js'
import {
  type CatalogBackend,
  fixedClock,
  isTarnError,
  Lake,
  PostgresBackend,
  type RunOutcome,
  seededRandom,
} from '../../src/index.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'
import { testScale, testSeed } from '../helpers/test-seed.js'

/*
 * Model-based test of the whole lake: random operation sequences — branch, tag, write (append or overwrite with real
 * Iceberg files), merge, revert (whole commit or --table) and pipeline runs (started, written model by model and
 * finished or failed, interleaved with everything else) — go to the executable model in spec/ and to a real lake
 * (SQLite or PostgreSQL catalog, local warehouse, DuckDB runs). After every step the outcomes must agree (same
 * success, same error code, same merge kind) and so must everything a user can observe: every branch (sealed or not)
 * and tag, and in each the rows of every table. Each data file holds one row, a marker named like the model's file.
 */

const TABLES: readonly TableName[] = ['t1', 't2', 't3']
const BRANCHES = ['main', 'dev', 'feat'] as const
const TAGS = ['v1', 'v2'] as const
const RUNS = 3

type RefSel = { readonly branch: string } | { readonly run: number }

/** An operation as generated: runs are named by start order, refs may name a run's branch. */
type Action =
  | { readonly k: 'branch'; readonly name: string; readonly from: RefSel }
  | { readonly k: 'delete'; readonly ref: RefSel }
  | { readonly k: 'tag'; readonly name: string; readonly from: RefSel }
  | { readonly k: 'write'; readonly branch: string; readonly table: TableName; readonly mode: WriteMode }
  | { readonly k: 'merge'; readonly source: RefSel; readonly into: string }
  | { readonly k: 'revert'; readonly on: string; readonly back: number; readonly table?: TableName }
  | { readonly k: 'start'; readonly target: string; readonly plan: readonly PlanStep[] }
  | { readonly k: 'runWrite'; readonly run: number }
  | { readonly k: 'finish'; readonly run: number; readonly success: boolean }

const branch = fc.constantFrom(...BRANCHES)
const table = fc.constantFrom(...TABLES)
const mode = fc.constantFrom<WriteMode>('append', 'append', 'overwrite')
const run = fc.integer({ min: 0, max: RUNS - 1 })
const anyRun = fc.nat(5)
const refSel: fc.Arbitrary<RefSel> = fc.oneof(
  { weight: 8, arbitrary: branch.map((b) => ({ branch: b })) },
  { weight: 1, arbitrary: fc.constantFrom(...TAGS).map((t) => ({ branch: t })) },
  { weight: 1, arbitrary: run.map((r) => ({ run: r })) },
)
const plan: fc.Arbitrary<PlanStep[]> = fc
  .shuffledSubarray([...TABLES], { minLength: 1, maxLength: 3 })
  .chain((ts) => fc.tuple(...ts.map((t) => mode.map((m) => ({ table: t, mode: m })))))

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ k: fc.constant('branch' as const), name: branch, from: refSel }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('delete' as const),
      ref: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('dev', 'feat').map((b) => ({ branch: b })) },
        { weight: 1, arbitrary: run.map((r) => ({ run: r })) },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('tag' as const), name: fc.constantFrom(...TAGS), from: refSel }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('write' as const),
      branch: fc.oneof({ weight: 12, arbitrary: branch }, { weight: 1, arbitrary: fc.constantFrom(...TAGS) }),
      table,
      mode,
    }),
  },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('merge' as const), source: refSel, into: branch }) },
  {
    weight: 2,
    arbitrary: fc.record(
      { k: fc.constant('revert' as const), on: branch, back: fc.integer({ min: 0, max: 3 }), table },
      { requiredKeys: ['k', 'on', 'back'] },
    ),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('start' as const), target: branch, plan }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('runWrite' as const), run: anyRun }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('finish' as const),
      run: anyRun,
      success: fc.oneof(
        { weight: 3, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
    }),
  },
)

const modelRef = (r: RefSel): string => ('run' in r ? `run/r${r.run}` : r.branch)

function toModelOp(a: Action): Op {
  switch (a.k) {
    case 'branch':
      return { kind: 'createBranch', name: a.name, from: modelRef(a.from) }
    case 'delete':
      return { kind: 'deleteBranch', name: modelRef(a.ref) }
    case 'tag':
      return { kind: 'tag', name: a.name, from: modelRef(a.from) }
    case 'write':
      return { kind: 'write', branch: a.branch, table: a.table, mode: a.mode }
    case 'merge':
      return { kind: 'merge', source: modelRef(a.source), into: a.into }
    case 'revert':
      return a.table === undefined
        ? { kind: 'revert', on: a.on, back: a.back }
        : { kind: 'revert', on: a.on, back: a.back, table: a.table }
    case 'start':
      return { kind: 'startRun', target: a.target, plan: a.plan }
    case 'runWrite':
      return { kind: 'runWrite', run: `r${a.run}` }
    case 'finish':
      return { kind: 'runFinish', run: `r${a.run}`, success: a.success }
  }
}

/** A run's branch named by a ref picks among the runs started so far (the index modulo their number). */
function bindRef(r: RefSel, state: LakeState): RefSel {
  if (!('run' in r) || state.runs.length === 0) return r
  return { run: r.run % state.runs.length }
}

/**
 * Binds generated indexes to what exists now, so that most steps act: run steps pick among the runs running now (the
 * index modulo their number), refs to run branches among the runs started.
 */
function bindRun(a: Action, state: LakeState): Action | undefined {
  if (a.k === 'branch' || a.k === 'tag') return { ...a, from: bindRef(a.from, state) }
  if (a.k === 'merge') return { ...a, source: bindRef(a.source, state) }
  if (a.k === 'delete') return { ...a, ref: bindRef(a.ref, state) }
  if (a.k !== 'runWrite' && a.k !== 'finish') return a
  const running = state.runs.filter((r) => r.status === 'running')
  const r = running[a.run % Math.max(1, running.length)]
  if (r === undefined) return undefined
  return { ...a, run: Number(r.id.slice(1)) }
}

/** What the real lake answered, in the model's terms. */
type Answer = { readonly ok: true; readonly kind?: string } | { readonly ok: false; readonly code: string }

async function answer(p: Promise<unknown>, withKind = false): Promise<Answer> {
  try {
    const r = (await p) as { kind?: unknown } | undefined
    return withKind && typeof r?.kind === 'string' ? { ok: true, kind: r.kind } : { ok: true }
  } catch (e) {
    if (isTarnError(e)) return { ok: false, code: e.code }
    throw e
  }
}

/** The comparable part of a model outcome. */
function expected(o: Outcome, withKind: boolean): Answer {
  if (!o.ok) return { ok: false, code: o.code }
  return withKind ? { ok: true, kind: o.kind } : { ok: true }
}

/**
 * A real pipeline run held at gates: before each materialisation ("write") and after the last one ("finish"). The
 * test releases a gate to let exactly one model commit (or the landing) happen, or rejects it to make the run fail
 * there — the model's `runWrite` and `runFinish` steps.
 */
class GatedRun {
  readonly done: Promise<RunOutcome>
  jobId: string | undefined
  #gate: { resolve: () => void; reject: (e: Error) => void } | undefined
  #waiter: ((where: string) => void) | undefined
  #arrived: string | undefined
  #written = 0

  constructor(lake: Lake, dir: string, target: string, steps: number) {
    const arrive = (where: string): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        this.#gate = { resolve, reject }
        this.#signal(where)
      })
    this.done = lake.run({
      dir,
      branch: target,
      observer: {
        planned: (_plan, job) => {
          this.jobId = job.id
        },
        node: (n) => {
          if (n.kind !== 'materialize') return
          if (n.status === 'running') return arrive('write')
          if (n.status === 'done' && ++this.#written === steps) return arrive('finish')
        },
      },
    })
    this.done.then(
      () => this.#signal('ended'),
      () => this.#signal('ended'),
    )
  }

  #signal(where: string): void {
    const w = this.#waiter
    this.#waiter = undefined
    if (w) w(where)
    else this.#arrived = where
  }

  /** Waits until the run stands at its next gate or has ended (an error after a minute: the run is stuck). */
  next(): Promise<string> {
    return new Promise((resolve, reject) => {
      const a = this.#arrived
      this.#arrived = undefined
      if (a !== undefined) return resolve(a)
      const timer = setTimeout(() => {
        this.#waiter = undefined
        reject(new Error(`run ${this.jobId ?? '(not planned yet)'} reached no gate within 60 s`))
      }, 60_000)
      this.#waiter = (where) => {
        clearTimeout(timer)
        resolve(where)
      }
    })
  }

  release(): void {
    const g = this.#gate
    this.#gate = undefined
    g?.resolve()
  }

  stop(): void {
    const g = this.#gate
    this.#gate = undefined
    g?.reject(new Error('the run was stopped here by the model-based test'))
  }
}

/** The rows of one table, as sorted markers. */
type Rows = readonly string[]

interface Observed {
  readonly [ref: string]: { readonly sealed?: boolean; readonly tables: Readonly<Record<string, Rows>> }
}

function observeModel(s: LakeState): Observed {
  const out: Record<string, Observed[string]> = {}
  const tablesOf = (id: string) => {
    const c = s.commits.get(id)
    const t: Record<string, Rows> = {}
    for (const [name, v] of Object.entries(c?.tables ?? {})) t[name] = [...v.files].sort()
    return t
  }
  for (const [name, b] of s.branches) out[`branch:${name}`] = { sealed: b.sealed, tables: tablesOf(b.head) }
  for (const [name, id] of s.tags) out[`tag:${name}`] = { tables: tablesOf(id) }
  return out
}

/** One model-based session: a real lake, the model state and the runs in flight. */
class Session {
  state: LakeState = initialState(TABLES)
  readonly runs: GatedRun[] = []
  readonly refused: GatedRun[] = []
  readonly #rows = new Map<string, Rows>()
  #files = 0

  constructor(
    readonly lake: Lake,
    readonly dir: string,
  ) {}

  realRef(model: string): string {
    const m = /^run\/r(\d+)$/.exec(model)
    if (!m) return model
    const job = this.runs[Number(m[1])]?.jobId
    return job ? `run/${job}` : model
  }

  modelName(real: string): string {
    const i = this.runs.findIndex((r) => r.jobId !== undefined && real === `run/${r.jobId}`)
    return i >= 0 ? `run/r${i}` : real
  }

  #file(marker: string): string {
    const path = join(this.dir, `w${this.#files++}.jsonl`)
    writeFileSync(path, `${JSON.stringify({ marker })}\n`)
    return path
  }

  /** The marker of the file a write of `table` on `branch` added in the model (or a dummy when it failed). */
  #marker(before: LakeState, after: LakeState, branch: string, table: TableName, mode: WriteMode): string {
    const head = (s: LakeState) => s.commits.get(s.branches.get(branch)?.head ?? '')?.tables[table]
    const b = head(before)
    const a = head(after)
    if (a === undefined) return 'unused'
    return mode === 'overwrite' ? a.gen : (addedFiles(b, a)[0] ?? 'unused')
  }

  #project(runIndex: number, plan: readonly PlanStep[], markers: readonly string[]): string {
    const dir = join(this.dir, `project-${runIndex}`)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'tarn_project.yml'), 'name: model\nnamespace: tarn\n')
    plan.forEach((step, k) => {
      const prev = k > 0 ? plan[k - 1]?.table : undefined
      const mat = step.mode === 'append' ? 'APPEND' : 'REPLACE'
      const from = prev ? ` FROM (SELECT count(*) AS n FROM ${prev}) AS previous` : ''
      writeFileSync(
        join(dir, `${step.table}.sql`),
        `-- tarn: materialize=${mat}\nSELECT '${markers[k]}' AS marker${from}\n`,
      )
    })
    return dir
  }

  /** Applies one action to the model and the lake; returns [model, real] answers. */
  async apply(generated: Action): Promise<[Answer, Answer] | undefined> {
    const a = bindRun(generated, this.state)
    if (a === undefined) return undefined
    const op = toModelOp(a)
    const before = this.state
    const step = applyOp(before, op)
    this.state = step.state
    const lake = this.lake
    switch (a.k) {
      case 'branch':
        return [
          expected(step.outcome, false),
          await answer(lake.createBranch(a.name, { from: this.realRef(modelRef(a.from)) })),
        ]
      case 'delete':
        return [expected(step.outcome, false), await answer(lake.deleteBranch(this.realRef(modelRef(a.ref))))]
      case 'tag':
        return [
          expected(step.outcome, false),
          await answer(lake.createTag(a.name, { from: this.realRef(modelRef(a.from)) })),
        ]
      case 'write': {
        const marker = this.#marker(before, step.state, a.branch, a.table, a.mode)
        const from = this.#file(marker)
        return [
          expected(step.outcome, false),
          await answer(
            lake.importTable(`tarn.${a.table}`, {
              from,
              branch: a.branch,
              ...(a.mode === 'overwrite' ? { replace: true } : {}),
            }),
          ),
        ]
      }
      case 'merge': {
        const exp = expected(step.outcome, true)
        const got = await answer(lake.merge(this.realRef(modelRef(a.source)), { into: a.into }), true)
        return [exp, got]
      }
      case 'revert': {
        // The model's history starts at the lake's table-creation commits: reverting past them is out of its scope.
        if (!step.outcome.ok && step.outcome.code === 'COMMIT_NOT_FOUND') return undefined
        const got = await answer(
          lake.revert(`${a.on}~${a.back}`, {
            on: a.on,
            ...(a.table !== undefined ? { table: `tarn.${a.table}` } : {}),
          }),
        )
        return [expected(step.outcome, false), got]
      }
      case 'start': {
        const index = this.runs.length
        let markers: string[] = []
        if (step.outcome.ok) {
          // The run branch is written only by the run, so the model's files for each step are known up front.
          let s = step.state
          for (let k = 0; k < a.plan.length; k++) {
            const w = applyOp(s, { kind: 'runWrite', run: `r${index}` })
            const runBranch = `run/r${index}`
            const p = a.plan[k] as PlanStep
            markers = [...markers, this.#marker(s, w.state, runBranch, p.table, p.mode)]
            s = w.state
          }
        } else markers = a.plan.map(() => 'unused')
        const dir = this.#project(this.runs.length + this.refused.length, a.plan, markers)
        const r = new GatedRun(lake, dir, a.target, a.plan.length)
        // Run i of the lake is run r<i> of the model, which numbers only the runs it started.
        if (step.outcome.ok) this.runs.push(r)
        else this.refused.push(r)
        const where = await r.next()
        if (where === 'ended') return [expected(step.outcome, false), await answer(r.done)]
        return [expected(step.outcome, false), { ok: true }]
      }
      case 'runWrite': {
        const r = this.runs[a.run]
        if (!step.outcome.ok) return undefined // no such run, not running, or all written: nothing to do
        if (!r) throw new Error(`run ${a.run} is running in the model but was never started in the lake`)
        r.release()
        const where = await r.next()
        if (where === 'ended') return [expected(step.outcome, false), await answer(r.done)]
        return [expected(step.outcome, false), { ok: true }]
      }
      case 'finish': {
        const r = this.runs[a.run]
        if (!step.outcome.ok) return undefined
        if (!r) throw new Error(`run ${a.run} is running in the model but was never started in the lake`)
        if (a.success) r.release()
        else r.stop()
        const where = await r.next()
        if (where !== 'ended') throw new Error(`run ${a.run} was released to finish but stopped at ${where}`)
        const got = await answer(r.done)
        const exp: Answer = step.outcome.kind.startsWith('run-failed')
          ? { ok: false, code: step.outcome.kind.split(': ')[1] ?? 'RUN_FAILED' }
          : { ok: true }
        return [exp, got]
      }
    }
  }

  async #rowsOf(ref: string, t: string, location: string): Promise<Rows> {
    const cached = this.#rows.get(location)
    if (cached) return cached
    const rows = (await this.lake.query(`SELECT marker FROM tarn.${t}`, { ref })).rows()
    const markers = rows.map((r) => String(r.marker)).sort()
    this.#rows.set(location, markers)
    return markers
  }

  async observe(): Promise<Observed> {
    const out: Record<string, Observed[string]> = {}
    const tablesAt = async (head: string) => {
      const state = await this.lake.catalog.state(`@${head}`)
      const t: Record<string, Rows> = {}
      for (const [key, st] of Object.entries(state.tables)) {
        const name = key.replace(/^tarn\./, '')
        t[name] = await this.#rowsOf(`@${head}`, name, st.metadataLocation)
      }
      return t
    }
    for (const b of await this.lake.listBranches())
      out[`branch:${this.modelName(b.name)}`] = { sealed: b.sealed === true, tables: await tablesAt(b.head) }
    for (const t of await this.lake.listTags()) out[`tag:${t.name}`] = { tables: await tablesAt(t.head) }
    return out
  }

  /** Ends every run still held at a gate (as failures), so the lake can close. */
  async drain(): Promise<void> {
    for (const r of [...this.runs, ...this.refused]) {
      r.stop()
      await r.done.catch(() => undefined)
    }
  }
}

/** Fails with the trail of actions when one step does not finish within a minute (a stuck operation). */
function withinAMinute<T>(p: Promise<T>, trail: readonly string[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`a step took over 60 s:\n${trail.join('\n')}`)), 60_000)
  })
  return Promise.race([p, stuck]).finally(() => clearTimeout(timer))
}

const seed = testSeed(20261124)
const pg = await postgresUrl()

let work: string
let empty: string

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tarn-lake-model-'))
  empty = join(work, 'empty.parquet')
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  await conn.run(`COPY (SELECT NULL::VARCHAR AS marker LIMIT 0) TO '${empty}' (FORMAT parquet)`)
  conn.closeSync()
  db.closeSync()
})

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

function property(
  label: string,
  backend: () => CatalogBackend | undefined,
  numRuns: number,
  maxSteps: number,
) {
  it(`agrees with the executable model on branches, tags, rows, merges, reverts and runs after every step (${label})`, async () => {
    let steps = 0
    let sequences = 0
    const counts = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(
        fc.array(action, { minLength: 8, maxLength: maxSteps, size: 'max' }),
        async (actions) => {
          const home = mkdtempSync(join(work, 'lake-'))
          const b = backend()
          const lake = await Lake.init({
            home,
            env: {},
            ...(b ? { backend: b } : {}),
            author: 'model',
            clock: fixedClock(Date.parse('2026-01-01T00:00:00Z'), 1000),
            random: seededRandom(sequences + 1),
          })
          const session = new Session(lake, home)
          sequences++
          try {
            for (const t of TABLES) await lake.createTable(`tarn.${t}`, { from: empty })
            expect(await session.observe()).toEqual(observeModel(session.state))
            const trail: string[] = []
            const prefix: Action[] = [
              { k: 'branch', name: 'dev', from: { branch: 'main' } },
              { k: 'branch', name: 'feat', from: { branch: 'main' } },
            ]
            for (const a of [...prefix, ...actions]) {
              trail.push(JSON.stringify(a))
              if (process.env.TARN_TRACE) console.log(`[lake-model] ${trail.at(-1)}`)
              const r = await withinAMinute(session.apply(a), trail)
              if (r === undefined) continue
              const [exp, got] = r
              expect(got, trail.join('\n')).toEqual(exp)
              expect(await session.observe(), trail.join('\n')).toEqual(observeModel(session.state))
              steps++
              const label = `${a.k}:${exp.ok ? (exp.kind ?? 'ok') : exp.code}`
              counts.set(label, (counts.get(label) ?? 0) + 1)
            }
          } finally {
            await session.drain()
            await lake.close()
            rmSync(home, { recursive: true, force: true })
          }
        },
      ),
      {
        numRuns: Math.round(numRuns * testScale()),
        seed,
        ...(process.env.TARN_NO_SHRINK ? { endOnFailure: true } : {}),
      },
    )
    console.log(
      `[lake-model] ${label}: ${sequences} sequences, ${steps} steps compared (${[...counts].map(([k, n]) => `${k}=${n}`).join(' ')}) (TARN_SEED=${seed})`,
    )
  }, 600_000)
}

describe('the real lake against the executable model (real Iceberg files and runs)', () => {
  property('sqlite', () => undefined, 40, 30)
  if (pg) property('postgres', () => PostgresBackend.open(freshSchemaUrl(pg, 'lakemodel')), 20, 30)
  else it.skip('agrees with the executable model on PostgreSQL (no server)', () => undefined)
})
