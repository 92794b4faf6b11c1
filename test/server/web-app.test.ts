import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeyStore, Lake, type RunningServer, serve } from '../../src/index.js'
import { taxiData, writeProject } from '../run/helpers.js'

interface JobDoc {
  job: { id: string; status: string; nodes: { id: string; status: string; dependsOn?: string[] }[] }
}

/** Reads a server-sent event stream to its end: each event's name and parsed data. */
async function events(res: Response): Promise<{ event: string; data: JobDoc }[]> {
  const out: { event: string; data: JobDoc }[] = []
  for (const block of (await res.text()).split('\n\n')) {
    const lines = block.split('\n')
    const event = lines.find((l) => l.startsWith('event: '))?.slice(7)
    const data = lines.find((l) => l.startsWith('data: '))?.slice(6)
    if (event !== undefined && data !== undefined) out.push({ event, data: JSON.parse(data) as JobDoc })
  }
  return out
}

describe('tarn serve: the web app at / and job events', () => {
  let lake: Lake
  let server: RunningServer

  beforeAll(async () => {
    const data = taxiData(200)
    lake = await Lake.init({
      home: join(mkdtempSync(join(tmpdir(), 'tarn-web-app-')), 'lake'),
      author: 'tester',
    })
    await lake.createTable('zones', { from: join(data, 'zones.csv') })
    server = await serve({
      lake,
      keys: new ApiKeyStore(lake.catalog.backend, lake),
      host: '127.0.0.1',
      port: 0,
    })
  })
  afterAll(async () => {
    await server?.close()
    await lake?.close()
  })

  it('serves the app at / with a strict content security policy, and its hashed assets for a year', async () => {
    const res = await fetch(`${server.url}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(res.headers.get('cache-control')).toBe('no-cache')
    const html = await res.text()
    expect(html).toContain('<div id="app"></div>')
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1] as string
    const asset = await fetch(`${server.url}/${script}`)
    expect(asset.status).toBe(200)
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(asset.headers.get('cache-control')).toContain('immutable')
    expect((await asset.text()).length).toBeGreaterThan(1000)
  })

  it("puts the first page's API answers into index.html of a server open without keys, each as the API answers it", async () => {
    await lake.createBranch('feature/x')
    const html = await (await fetch(`${server.url}/`)).text()
    const block = /<script type="application\/json" id="tarn-answers">(.*?)<\/script>/s.exec(html)?.[1]
    const answers = JSON.parse(block as string) as Record<string, unknown>
    expect(Object.keys(answers).sort()).toEqual([
      '/branches',
      '/branches/feature%2Fx',
      '/branches/main',
      '/protected-branches',
      '/tags',
    ])
    for (const [path, answer] of Object.entries(answers)) {
      expect(answer, path).toEqual(await (await fetch(`${server.url}/api/v1${path}`)).json())
    }
  })

  it('gzips the app for browsers that take it, once for each hashed asset', async () => {
    const html = await (await fetch(`${server.url}/`)).text()
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1] as string
    const plain = await fetch(`${server.url}/${script}`, { headers: { 'accept-encoding': 'identity' } })
    expect(plain.headers.get('content-encoding')).toBeNull()
    const raw = Buffer.from(await plain.arrayBuffer())
    for (const accept of ['gzip, deflate, br', 'br;q=1, gzip;q=0.5']) {
      const res = await fetch(`${server.url}/${script}`, { headers: { 'accept-encoding': accept } })
      expect(res.headers.get('content-encoding'), accept).toBe('gzip')
      expect(res.headers.get('vary')).toBe('accept-encoding')
      expect(Number(res.headers.get('content-length'))).toBeLessThan(raw.length / 2)
      // fetch inflates it: the same bytes as the plain answer
      expect(Buffer.from(await res.arrayBuffer()).equals(raw)).toBe(true)
    }
    const refused = await fetch(`${server.url}/${script}`, { headers: { 'accept-encoding': 'gzip;q=0' } })
    expect(refused.headers.get('content-encoding')).toBeNull()
  })

  it('answers files outside the bundle with a 404 error document', async () => {
    for (const path of ['/assets/..%2F..%2Fpackage.json', '/assets/missing.js', '/assets/.env']) {
      const res = await fetch(`${server.url}${path}`)
      expect(res.status, path).toBe(404)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND')
    }
  })

  it('streams a running job as server-sent events until it ends, each node with its dependencies', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: t\nnamespace: tarn\n',
      'zone_names.sql': '-- tarn: materialize=REPLACE\nSELECT zone_id, zone_name FROM zones\n',
      'slow.ts': [
        "import { input, model } from 'tarn'",
        'export const slow = model(',
        "  { inputs: { names: input('zone_names') }, materialize: 'REPLACE' },",
        '  async ({ names }) => {',
        '    await new Promise((r) => setTimeout(r, 1500))',
        '    return names.toArray().map((n) => ({ zone_id: n.zone_id }))',
        '  },',
        ')',
        '',
      ].join('\n'),
    })
    const running = lake.run({ dir })
    let id: string | undefined
    while (id === undefined) {
      id = (await lake.listJobs()).find((j) => j.status === 'running')?.id
      if (id === undefined) await new Promise((r) => setTimeout(r, 20))
    }
    const res = await fetch(`${server.url}/api/v1/jobs/${id}/events`)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const seen = await events(res)
    await running
    expect(seen.every((e) => e.event === 'job' && e.data.job.id === id)).toBe(true)
    expect(seen[0]?.data.job.status).toBe('running')
    expect(seen.at(-1)?.data.job.status).toBe('succeeded')
    // more than the first and the last: node changes arrive while the run goes on, each state once
    expect(seen.length).toBeGreaterThan(2)
    expect(new Set(seen.map((e) => JSON.stringify(e.data))).size).toBe(seen.length)
    const nodes = seen.at(-1)?.data.job.nodes ?? []
    expect(nodes.find((n) => n.id === 'model:slow')?.dependsOn).toEqual(['model:zone_names'])
    expect(nodes.every((n) => n.status === 'done')).toBe(true)
  })

  it('answers the events of an unknown job with JOB_NOT_FOUND before any stream starts', async () => {
    const res = await fetch(`${server.url}/api/v1/jobs/job-000000000000/events`)
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('JOB_NOT_FOUND')
  })

  it('leaves the answers out of index.html once the server needs a key, since anyone may fetch the page', async () => {
    const keys = new ApiKeyStore(lake.catalog.backend, lake)
    await keys.create('viewer', { rules: ['read:*'] })
    const res = await fetch(`${server.url}/`)
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('<div id="app"></div>')
    expect(html).not.toContain('tarn-answers')
    expect(html).not.toContain('"/branches"')
  })
})
