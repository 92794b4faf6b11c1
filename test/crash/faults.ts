import { seededRandom } from '../../src/util/random.js'

/**
 * What happens at the faulted I/O:
 * - `transient`: an S3-like transient error (503 SlowDown) for this one I/O; later I/O succeeds.
 * - `crash`: the process dies before the I/O takes effect (an abandoned operation; for the catalog, the connection
 *   drops inside the transaction, before it commits, so it rolls back); every later I/O fails.
 * - `torn`: a write leaves a truncated prefix of its bytes where the filesystem could (a torn temp file), then the
 *   process dies. On anything but a write it acts as `crash`.
 * - `ack-lost`: the I/O takes effect, then the process dies before the caller hears of it (the connection drops
 *   after the commit). On a read it acts as `crash`.
 */
export type FaultKind = 'transient' | 'crash' | 'torn' | 'ack-lost'

/** Every fault kind, in schedule order. */
export const FAULT_KINDS: readonly FaultKind[] = ['transient', 'crash', 'torn', 'ack-lost']

/** One I/O as the injector sees it. */
export interface IoEvent {
  readonly target: 'store' | 'catalog'
  readonly op: string
  readonly write: boolean
  readonly key?: string
}

/** The error thrown for a transient fault (retryable, like S3's 503 SlowDown). */
export class TransientIoError extends Error {
  readonly code = 'SlowDown'
  readonly retryable = true
}

/** The error thrown by every I/O once the simulated process has crashed. */
export class CrashedError extends Error {
  readonly code = 'SIMULATED_CRASH'
}

/** The decision the injector takes for one I/O. */
export type IoDecision = { readonly action: 'proceed' } | { readonly action: FaultKind }

/**
 * Counts the I/O of one simulated process across the warehouse store and the catalog backend (one shared counter),
 * and applies at most one fault, at I/O number `at` (1-based). Without a fault it only counts.
 *
 * @example
 * ```ts
 * const injector = new FaultInjector({ at: 7, kind: 'torn' })
 * const decision = injector.next({ target: 'store', op: 'put', write: true, key: 'a' })
 * ```
 */
export class FaultInjector {
  #count = 0
  #crashed = false
  #armed = false
  readonly fault: FaultPoint | undefined
  /** The I/O that received the fault, once it has happened. */
  hit: (IoEvent & { readonly kind: FaultKind }) | undefined
  /** Every counted I/O, in order (index k-1 holds I/O number k). */
  readonly events: IoEvent[] = []

  readonly #onCrash: (() => void) | undefined

  /**
   * @param fault the one fault to apply (none: only count)
   * @param options.onCrash called once when the simulated process dies (e.g. to drop its database connections)
   */
  constructor(fault?: FaultPoint, options: { onCrash?: () => void } = {}) {
    this.fault = fault
    this.#onCrash = options.onCrash
  }

  /** I/Os seen so far. */
  get count(): number {
    return this.#count
  }

  /** Whether the simulated process has died. */
  get crashed(): boolean {
    return this.#crashed
  }

  /** Starts counting (I/O before, such as opening the lake, is neither counted nor faulted). */
  arm(): void {
    this.#armed = true
  }

  /** Marks the process dead: every later I/O throws {@link CrashedError}. */
  crash(): void {
    if (this.#crashed) return
    this.#crashed = true
    this.#onCrash?.()
  }

  /** Counts one I/O and says what to do with it; throws once the process has crashed. */
  next(event: IoEvent): IoDecision {
    if (this.#crashed) throw new CrashedError(`simulated crash: ${event.target}.${event.op} after the crash`)
    if (!this.#armed) return { action: 'proceed' }
    this.#count++
    this.events.push(event)
    if (this.fault === undefined || this.#count < this.fault.at) return { action: 'proceed' }
    // A transient fault may last a burst of consecutive I/Os (an S3 throttling episode).
    if (this.#count > this.fault.at) {
      const burst = this.fault.kind === 'transient' ? (this.fault.burst ?? 1) : 1
      return this.#count < this.fault.at + burst ? { action: 'transient' } : { action: 'proceed' }
    }
    let kind = this.fault.kind
    if (kind === 'torn' && !(event.target === 'store' && event.write)) kind = 'crash'
    if (kind === 'ack-lost' && !event.write) kind = 'crash'
    this.hit = { ...event, kind }
    return { action: kind }
  }
}

/** What a warehouse can leave behind: {@link faultSchedule} options. */
export interface ScheduleOptions {
  /** Store writes are atomic (an S3 PUT): a torn write cannot be seen, so `torn` is no distinct fault kind. */
  readonly atomicStoreWrites?: boolean
}

/**
 * The fault kinds that act differently on an I/O: a read can only fail transiently or crash; a catalog write can
 * also lose its acknowledgement; a store write can also be torn (unless store writes are atomic).
 *
 * @example
 * ```ts
 * distinctKinds({ target: 'store', op: 'get', write: false }) // ['transient', 'crash']
 * ```
 */
export function distinctKinds(event: IoEvent, options: ScheduleOptions = {}): FaultKind[] {
  if (!event.write) return ['transient', 'crash']
  if (event.target === 'catalog' || event.op === 'delete' || options.atomicStoreWrites === true)
    return ['transient', 'crash', 'ack-lost']
  return ['transient', 'crash', 'torn', 'ack-lost']
}

/** One scheduled fault: fault kind `kind` at I/O number `at` (1-based) of an operation. */
export interface FaultPoint {
  readonly at: number
  readonly kind: FaultKind
  /** For `transient`: how many consecutive I/Os fail (1 to 3, from the seed). */
  readonly burst?: number
}

/**
 * The fault schedule of an operation for `seed`: every distinct fault point (I/O number × fault kind that acts
 * differently there, from the I/Os of a fault-free run), and when there are more than `budget`, a seeded sample of
 * `budget` of them. A pure function of its arguments, so a seed replays the exact same schedule.
 *
 * @example
 * ```ts
 * faultSchedule(42, 'merge', events, 300) // [{ at: 1, kind: 'crash' }, { at: 1, kind: 'transient' }, ...]
 * ```
 */
export function faultSchedule(
  seed: number,
  op: string,
  events: readonly IoEvent[],
  budget: number,
  options: ScheduleOptions = {},
): FaultPoint[] {
  let h = seed >>> 0
  for (const ch of op) h = (Math.imul(h ^ ch.charCodeAt(0), 0x01000193) + 0x9e3779b9) >>> 0
  const r = seededRandom(h)
  const all: FaultPoint[] = events.flatMap((e, i) =>
    distinctKinds(e, options).map((kind) =>
      kind === 'transient' ? { at: i + 1, kind, burst: 1 + Math.floor(r.next() * 3) } : { at: i + 1, kind },
    ),
  )
  if (all.length <= budget) return all
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(r.next() * (i + 1))
    const t = all[i] as FaultPoint
    all[i] = all[j] as FaultPoint
    all[j] = t
  }
  const order = (p: FaultPoint): number => p.at * 4 + FAULT_KINDS.indexOf(p.kind)
  return all.slice(0, budget).sort((a, b) => order(a) - order(b))
}
