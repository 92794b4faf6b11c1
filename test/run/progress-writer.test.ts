import { describe, expect, it } from 'vitest'
import { progressWriter } from '../../src/pipeline/run/progress-writer.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('progressWriter', () => {
  it('saves a burst of changes once, after the delay', async () => {
    let writes = 0
    const p = progressWriter(async () => {
      writes++
    }, 20)
    for (let i = 0; i < 10; i++) p.changed()
    expect(writes).toBe(0)
    await sleep(60)
    expect(writes).toBe(1)
    p.changed()
    await sleep(60)
    expect(writes).toBe(2)
  })

  it('settle waits for a write in flight and drops a pending one, so a final save always comes last', async () => {
    const order: string[] = []
    const p = progressWriter(async () => {
      order.push('progress start')
      await sleep(50)
      order.push('progress end')
    }, 5)
    p.changed()
    await sleep(15)
    await p.settle()
    order.push('final')
    p.changed()
    await sleep(30)
    expect(order).toEqual(['progress start', 'progress end', 'final'])
  })

  it('a failed progress write neither throws nor stops later ones', async () => {
    let calls = 0
    const p = progressWriter(async () => {
      calls++
      if (calls === 1) throw new Error('disk full')
    }, 5)
    p.changed()
    await sleep(30)
    p.changed()
    await sleep(30)
    await expect(p.settle()).resolves.toBeUndefined()
    expect(calls).toBe(2)
  })
})
