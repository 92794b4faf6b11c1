import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ByteRange, ObjectInfo, ObjectStore } from '../../src/storage/object-store.js'
import { CrashedError, type FaultInjector, type IoEvent, TransientIoError } from './faults.js'

/**
 * Makes transient store faults real below the SDK: the faulted I/O's next requests get a real transient answer (e.g.
 * HTTP 503 SlowDown), so the client's own retry runs.
 *
 * @example
 * ```ts
 * const real: RealTransients = { failNext: (event, burst) => proxy.failNext(matcherOf(event), burst) }
 * ```
 */
export interface RealTransients {
  /** Fails the next `burst` requests of the I/O `event`; returns a function that forgets what is left of it. */
  failNext(event: IoEvent, burst: number): () => void
}

/**
 * An {@link ObjectStore} that passes every I/O through a {@link FaultInjector}: it may throw a transient error,
 * abandon the I/O and crash, tear a write (leaving a truncated temp file, the most a real local filesystem can leave
 * since `LocalObjectStore.put` writes temp + rename), or perform the I/O and crash before acknowledging it.
 * `close` always reaches the inner store, so the simulated process can be torn down. With {@link RealTransients}, a
 * transient fault of `burst` fails the faulted I/O's next `burst` requests below the client instead (its retry may
 * absorb them), and the I/Os after it proceed.
 *
 * @example
 * ```ts
 * const store = new FaultStore(await LocalObjectStore.create(dir), new FaultInjector({ at: 3, kind: 'crash' }))
 * ```
 */
export class FaultStore implements ObjectStore {
  readonly root: string
  readonly #inner: ObjectStore
  readonly #faults: FaultInjector
  readonly #inFlight = new Set<Promise<unknown>>()
  readonly #real: RealTransients | undefined

  constructor(inner: ObjectStore, faults: FaultInjector, real?: RealTransients) {
    this.#inner = inner
    this.#faults = faults
    this.#real = real
    this.root = inner.root
  }

  /** Resolves once every I/O that reached the inner store has settled (so none lands after the check begins). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  async #io<T>(event: IoEvent, run0: () => Promise<T>, data?: Uint8Array): Promise<T> {
    const run = (): Promise<T> => {
      const p = run0()
      this.#inFlight.add(p)
      const done = (): void => {
        this.#inFlight.delete(p)
      }
      p.then(done, done)
      return p
    }
    const decision = this.#faults.next(event)
    switch (decision.action) {
      case 'proceed':
        return run()
      case 'transient': {
        const fault = this.#faults.fault
        if (this.#real && fault) {
          // The burst is spent on this I/O's requests; the I/Os after it proceed.
          if (this.#faults.count > fault.at) return run()
          const forget = this.#real.failNext(event, fault.burst ?? 1)
          try {
            return await run()
          } finally {
            forget()
          }
        }
        throw new TransientIoError(`simulated 503 SlowDown on ${event.op} ${event.key ?? ''}`)
      }
      case 'crash':
        this.#faults.crash()
        throw new CrashedError(`simulated crash at ${event.op} ${event.key ?? ''}`)
      case 'torn':
        this.#tear(event.key ?? '', data ?? new Uint8Array())
        this.#faults.crash()
        throw new CrashedError(`simulated torn write of ${event.key ?? ''}`)
      case 'ack-lost': {
        await run()
        this.#faults.crash()
        throw new CrashedError(`simulated crash after ${event.op} ${event.key ?? ''} took effect`)
      }
    }
  }

  /** Leaves a truncated prefix of `data` in a temp file next to the key, as a write cut by a power loss would. */
  #tear(key: string, data: Uint8Array): void {
    if (!this.root.startsWith('file://') || key.includes('://')) return
    const path = join(fileURLToPath(this.root), key)
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(join(dirname(path), `.tarn-tmp-torn${data.length}`), data.subarray(0, data.length >> 1))
  }

  get(key: string, options?: { range?: ByteRange }): Promise<Uint8Array> {
    return this.#io({ target: 'store', op: 'get', write: false, key }, () => this.#inner.get(key, options))
  }

  put(key: string, data: Uint8Array): Promise<void> {
    return this.#io({ target: 'store', op: 'put', write: true, key }, () => this.#inner.put(key, data), data)
  }

  putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    return this.#io(
      { target: 'store', op: 'putIfAbsent', write: true, key },
      () => this.#inner.putIfAbsent(key, data),
      data,
    )
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.#io({ target: 'store', op: 'head', write: false, key }, () => this.#inner.head(key))
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const items = await this.#io({ target: 'store', op: 'list', write: false, key: prefix }, async () => {
      const out: ObjectInfo[] = []
      for await (const info of this.#inner.list(prefix)) out.push(info)
      return out
    })
    yield* items
  }

  delete(key: string): Promise<void> {
    return this.#io({ target: 'store', op: 'delete', write: true, key }, () => this.#inner.delete(key))
  }

  uriOf(key: string): string {
    return this.#inner.uriOf(key)
  }

  keyOf(uri: string): string | undefined {
    return this.#inner.keyOf(uri)
  }

  close(): Promise<void> {
    return this.#inner.close()
  }
}
