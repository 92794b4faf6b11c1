import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { withSession } from '../../src/runtime/duckdb-session.js'
import type { FunctionLogLine } from '../../src/runtime/function-worker.js'
import { ensurePythonEnv, pythonEnvHash, pythonRequirements } from '../../src/runtime/python-env.js'
import { type PythonTask, runPythonFunction } from '../../src/runtime/python-function.js'
import { PythonPool } from '../../src/runtime/python-pool.js'
import { uvAvailable } from '../helpers/uv.js'

const HAVE_UV = uvAvailable('Python runtime tests')
const cache = join(tmpdir(), 'tarn-test-python-env-cache')

function task(dir: string, source: string, fn: string, extra: Partial<PythonTask> = {}): PythonTask {
  const file = join(dir, 'models.py')
  writeFileSync(file, source)
  return {
    kind: 'model',
    name: fn,
    file,
    projectFile: 'models.py',
    function: fn,
    inputs: {},
    params: {},
    paramArgs: {},
    contextArg: null,
    output: join(dir, `${fn}.out.parquet`),
    jobId: 'job-test',
    ...extra,
  }
}

describe.runIf(HAVE_UV)('Python model runtime', () => {
  let python = ''
  beforeAll(async () => {
    python = (await ensurePythonEnv({ python: null, pip: {} }, cache)).python
  }, 600_000)

  it('turns pins into requirement lines and refuses what is not a pin', () => {
    expect(pythonRequirements({ polars: '1.*', numpy: '>=2', rich: '*' })).toEqual([
      'numpy>=2',
      'polars==1.*',
      'pyarrow>=14',
      'rich',
    ])
    expect(() => pythonRequirements({ 'polars; rm -rf /': '1' })).toThrow(/is not a package pin/)
    expect(() => pythonRequirements({ polars: '1 --index-url http://x' })).toThrow(/is not a package pin/)
    expect(pythonEnvHash({ python: '3.11', pip: { a: '1' } })).not.toBe(
      pythonEnvHash({ python: '3.11', pip: {} }),
    )
  })

  it('hands a started spare process to one task only: the next task gets another process, with fresh module state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-py-'))
    const source =
      "import os\nimport tarn\n\nSEEN = []\n\n@tarn.model()\ndef who():\n    SEEN.append(1)\n    return [{'pid': os.getpid(), 'seen': len(SEEN)}]\n"
    const pool = new PythonPool()
    const pids: number[] = []
    for (const name of ['first', 'second']) {
      pool.prestart(python)
      const spare = pool.waitingPid(python)
      expect(spare).not.toBeNull()
      const proc = pool.take(python)
      expect(proc.child.pid).toBe(spare)
      expect(pool.waitingPid(python)).toBeNull()
      const t = task(dir, source, 'who', { output: join(dir, `${name}.parquet`) })
      await runPythonFunction({
        task: t,
        python,
        scratch: dir,
        memoryMb: 512,
        timeoutMs: 60_000,
        line: 6,
        onLog: () => undefined,
        process: proc,
      })
      expect(proc.waiting()).toBe(false)
      const rows = await withSession([], async (c) =>
        (await c.runAndReadAll(`SELECT pid, seen FROM read_parquet('${t.output}')`)).getRowObjectsJS(),
      )
      expect(rows).toEqual([{ pid: BigInt(spare as number), seen: 1n }])
      pids.push(spare as number)
    }
    expect(pids[0]).not.toBe(pids[1])
    pool.close()
  })

  it('finds a built environment again without building it', async () => {
    const again = await ensurePythonEnv({ python: null, pip: {} }, cache)
    expect(again.built).toBe(false)
    expect(again.python).toBe(python)
  })

  it('runs a model on Parquet inputs that DuckDB wrote and DuckDB reads its result with the same types', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-py-'))
    const input = join(dir, 'in.parquet')
    await withSession([], async (c) => {
      await c.run(`COPY (SELECT i::BIGINT AS id, (i * 1.5)::DECIMAL(18,3) AS amount,
        TIMESTAMPTZ '2026-01-01 00:00:00+00' + i * INTERVAL 1 HOUR AS at, [i, i + 1] AS tags,
        {'k': i::VARCHAR} AS s FROM range(5) t(i)) TO '${input}' (FORMAT parquet)`)
    })
    const logs: FunctionLogLine[] = []
    const t = task(
      dir,
      "import tarn\n\n@tarn.model()\ndef same(t=tarn.Model('x')):\n    print('rows', t.num_rows)\n    return t\n",
      'same',
      { inputs: { t: input } },
    )
    expect(
      await runPythonFunction({
        task: t,
        python,
        scratch: dir,
        memoryMb: 512,
        timeoutMs: 60_000,
        line: 3,
        onLog: (l) => logs.push(l),
      }),
    ).toBeNull()
    expect(logs.map((l) => l.text)).toContain('rows 5')
    await withSession([], async (c) => {
      const same = await c.runAndReadAll(
        `SELECT (SELECT list(column_type ORDER BY column_name) FROM (DESCRIBE SELECT * FROM '${t.output}'))
           = (SELECT list(column_type ORDER BY column_name) FROM (DESCRIBE SELECT * FROM '${input}')) AS same_types,
           (SELECT count(*) FROM (SELECT * FROM '${t.output}' EXCEPT SELECT * FROM '${input}')) AS differing`,
      )
      expect(same.getRowObjects()[0]).toEqual({ same_types: true, differing: 0n })
    })
  })

  it('fails a raising model naming the user line, not the runner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-py-'))
    const t = task(
      dir,
      'def helper():\n    raise ValueError("bad fare")\n\n\ndef boom():\n    return helper()\n',
      'boom',
    )
    const run = runPythonFunction({
      task: t,
      python,
      scratch: dir,
      memoryMb: 512,
      timeoutMs: 60_000,
      line: 5,
      onLog: () => {},
    })
    await expect(run).rejects.toMatchObject({
      code: 'RUN_FAILED',
      message: 'model boom failed at models.py:2: ValueError: bad fare',
      context: { file: 'models.py', line: 2 },
    })
  })

  it('kills a model past its time limit and one past its memory limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-py-'))
    const slow = task(dir, 'import time\n\ndef slow():\n    time.sleep(60)\n', 'slow')
    await expect(
      runPythonFunction({
        task: slow,
        python,
        scratch: dir,
        memoryMb: 512,
        timeoutMs: 1500,
        line: 3,
        onLog: () => {},
      }),
    ).rejects.toThrow(/model slow failed at models.py:3: timed out/)
    const hog = task(
      dir,
      'def hog():\n    b = bytearray(1024 ** 3)\n    b[::4096] = b"x" * len(b[::4096])\n    return [{"n": len(b)}]\n',
      'hog',
    )
    await expect(
      runPythonFunction({
        task: hog,
        python,
        scratch: dir,
        memoryMb: 256,
        timeoutMs: 60_000,
        line: 1,
        onLog: () => {},
      }),
    ).rejects.toThrow(/model hog failed at models.py:1: out of memory \(limit 256MB\)/)
  })

  it('reports an expectation that failed with the failing row count and a sample', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-py-'))
    const t = task(
      dir,
      "import pyarrow as pa\nimport tarn\n\ndef check():\n    return tarn.expect.column_no_nulls(pa.table({'a': [1, None, None]}), 'a')\n",
      'check',
      { kind: 'expectation', output: join(dir, 'check.json') },
    )
    const result = await runPythonFunction({
      task: t,
      python,
      scratch: dir,
      memoryMb: 512,
      timeoutMs: 60_000,
      line: 4,
      onLog: () => {},
    })
    expect(result).toEqual({
      passed: false,
      failedRows: 2,
      sample: [{ a: null }, { a: null }],
      message: 'a has no nulls: 2 of 3 rows fail',
    })
  })

  it('gives two models pinning different versions of one package each their own version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-py-'))
    const source = "import importlib.metadata as md\n\ndef v():\n    return [{'v': md.version('six')}]\n"
    const versions: string[] = []
    for (const pin of ['1.16.0', '1.17.0']) {
      const env = await ensurePythonEnv({ python: null, pip: { six: pin } }, cache)
      const t = task(dir, source, 'v', { output: join(dir, `v-${pin}.parquet`) })
      await runPythonFunction({
        task: t,
        python: env.python,
        scratch: dir,
        memoryMb: 512,
        timeoutMs: 60_000,
        line: 3,
        onLog: () => {},
      })
      await withSession([], async (c) => {
        const r = await c.runAndReadAll(`SELECT v FROM '${t.output}'`)
        versions.push(String(r.getRowObjects()[0]?.v))
      })
    }
    expect(versions).toEqual(['1.16.0', '1.17.0'])
  }, 300_000)
})
