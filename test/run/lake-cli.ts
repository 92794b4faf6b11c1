import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryIO } from '../../src/cli/io.js'
import { main } from '../../src/cli/main.js'
import { Lake } from '../../src/lake/lake.js'

/** What one CLI invocation printed and returned. */
export interface CliRun {
  readonly stdout: string
  readonly stderr: string
  readonly exit: number
}

/** Runs the `tarn` CLI in process (`main`) on a lake home and returns its output and exit code. */
export async function tarnCli(home: string, ...args: string[]): Promise<CliRun> {
  const io = memoryIO({ TARN_HOME: home, TARN_USER: 'tester' }, tmpdir())
  const exit = await main(args, io)
  return { stdout: io.stdout(), stderr: io.stderr(), exit }
}

/** A fresh lake with one small table `tarn.zones` (zone_id, zone_name, borough) imported from CSV. */
export async function zonesLake(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'tarn-zones-'))
  const csv = join(root, 'zones.csv')
  writeFileSync(
    csv,
    'zone_id,zone_name,borough\n1,Harbor,East\n2,Market,East\n3,Park,West\n4,Station,West\n5,Airport,North\n',
  )
  const home = join(root, 'lake')
  const lake = await Lake.init({ home, author: 'tester' })
  await lake.createTable('zones', { from: csv })
  await lake.close()
  return home
}

/** Branch names, main's head and job ids of a lake: what a refused run must leave as it was. */
export async function lakeFootprint(
  home: string,
): Promise<{ branches: string[]; head: string; jobs: number }> {
  const lake = await Lake.open({ home })
  try {
    return {
      branches: (await lake.listBranches()).map((b) => b.name).sort(),
      head: (await lake.getBranch('main')).head,
      jobs: (await lake.listJobs()).length,
    }
  } finally {
    await lake.close()
  }
}
