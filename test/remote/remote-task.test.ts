import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../../src/cli/io.js'
import { Lake, runCli } from '../../src/index.js'
import { remoteTasks } from '../../src/pipeline/remote/remote-task.js'

describe('remote runs on a local lake', () => {
  let home: string
  let project: string
  let lake: Lake

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'tarn-remote-task-'))
    project = join(home, 'project')
    mkdirSync(project)
    writeFileSync(join(project, 'tarn_project.yml'), 'name: tiny\nnamespace: tarn\n')
    writeFileSync(join(project, 'staged.sql'), 'SELECT id, id * 2 AS twice FROM nums\n')
    writeFileSync(
      join(project, 'doubled.sql'),
      '-- tarn: materialize=REPLACE\nSELECT id, twice FROM staged\n',
    )
    writeFileSync(join(project, 'joined.sql'), 'SELECT n.id FROM nums AS n JOIN doubled AS d USING (id)\n')
    writeFileSync(join(home, 'nums.csv'), 'id\n1\n2\n3\n')
    lake = await Lake.init({ home, env: { TARN_HOME: home, TARN_USER: 'tester' } })
    await lake.createTable('nums', { from: [join(home, 'nums.csv')] })
  })

  afterAll(async () => {
    await lake?.close()
  })

  it('splits a plan into one node execution per model, each with the scans it reads and the models it waits for', async () => {
    const planned = await lake.plan({ dir: project })
    const tasks = remoteTasks(planned.physical)
    expect(tasks).toEqual([
      { name: 'staged', steps: ['scan:tarn.nums', 'model:staged'], dependsOn: [] },
      { name: 'doubled', steps: ['model:doubled', 'materialize:doubled'], dependsOn: ['staged'] },
      { name: 'joined', steps: ['scan:tarn.nums', 'model:joined'], dependsOn: ['doubled'] },
    ])
    // every non-scan step belongs to exactly one task
    const owned = tasks.flatMap((t) => t.steps.filter((s) => !s.startsWith('scan:')))
    expect(owned.sort()).toEqual(
      planned.physical.steps
        .filter((s) => s.kind !== 'scan')
        .map((s) => s.id)
        .sort(),
    )
  })

  it('refuses tarn run --remote on a lake whose catalog is not PostgreSQL, writing nothing', async () => {
    const io = memoryIO({ TARN_HOME: home, TARN_USER: 'tester' })
    const before = (await lake.listBranches()).map((b) => b.name)
    const jobs = (await lake.listJobs()).length
    const code = await runCli(['run', '--remote', '-p', project, '--json'], io)
    expect(code).toBe(1)
    expect(JSON.parse(io.stdout()).error.code).toBe('NOT_SUPPORTED')
    expect(io.stderr()).toContain('PostgreSQL catalog')
    expect((await lake.listBranches()).map((b) => b.name)).toEqual(before)
    expect((await lake.listJobs()).length).toBe(jobs)
  })

  it('refuses tarn worker --policy with a policy the scheduler does not have, as a usage error naming the choices', async () => {
    const io = memoryIO({ TARN_HOME: home, TARN_USER: 'tester' })
    expect(await runCli(['worker', '--policy', 'fastest'], io)).toBe(2)
    expect(io.stderr()).toContain('--policy takes naive, priority, priority-pool, right-size, got fastest')
  })

  it('refuses --priority without --remote and an unknown priority as usage errors', async () => {
    const io = memoryIO({ TARN_HOME: home, TARN_USER: 'tester' })
    expect(await runCli(['run', '-p', project, '--priority', 'batch'], io)).toBe(2)
    const io2 = memoryIO({ TARN_HOME: home, TARN_USER: 'tester' })
    expect(await runCli(['run', '--remote', '-p', project, '--priority', 'urgent'], io2)).toBe(2)
    expect(io2.stderr()).toContain('--priority takes query, interactive or batch')
  })
})
