import type { ChildProcess } from 'node:child_process'
import { residentBytes } from './resident-bytes.js'

/** Why a watched process was killed, if it was. */
export type WatchVerdict = 'preempted' | 'timed-out' | 'over-memory' | null

/** What a function's process is held to while it runs. */
export interface WatchLimits {
  /** Killed after this long. */
  readonly timeoutMs: number
  /** Killed when its resident size goes past this many bytes (checked every `pollMs`). */
  readonly rssLimitBytes: number
  readonly pollMs: number
  /** Killed when this aborts (a scheduler's preemption). */
  readonly signal?: AbortSignal | undefined
}

/**
 * Holds a function's child process to its time limit, its resident-memory limit and a preemption signal: whichever
 * comes first kills it with SIGKILL and is remembered as the verdict. `stop()` ends the watch (idempotent) and
 * returns the verdict, so the caller can say why the process ended.
 */
export class ProcessWatch {
  #verdict: WatchVerdict = null
  readonly #child: ChildProcess
  readonly #timer: NodeJS.Timeout
  readonly #poll: NodeJS.Timeout
  readonly #signal: AbortSignal | undefined
  readonly #preempt = (): void => this.#kill('preempted')

  constructor(child: ChildProcess, limits: WatchLimits) {
    this.#child = child
    this.#signal = limits.signal
    this.#timer = setTimeout(() => this.#kill('timed-out'), limits.timeoutMs)
    this.#poll = setInterval(() => {
      const rss = residentBytes(child.pid)
      if (rss !== null && rss > limits.rssLimitBytes) this.#kill('over-memory')
    }, limits.pollMs)
    if (limits.signal?.aborted) this.#preempt()
    else limits.signal?.addEventListener('abort', this.#preempt, { once: true })
  }

  /** Why the process was killed so far, or null. */
  get verdict(): WatchVerdict {
    return this.#verdict
  }

  /** Ends the watch and returns its verdict. */
  stop(): WatchVerdict {
    clearTimeout(this.#timer)
    clearInterval(this.#poll)
    this.#signal?.removeEventListener('abort', this.#preempt)
    return this.#verdict
  }

  #kill(why: Exclude<WatchVerdict, null>): void {
    this.#verdict ??= why
    this.#child.kill('SIGKILL')
  }
}
