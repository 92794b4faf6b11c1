/**
 * The namespace every new lake starts with.
 *
 * @example
 * ```ts
 * parseTableKey('orders', DEFAULT_NAMESPACE).key // 'tarn.orders'
 * ```
 */
export const DEFAULT_NAMESPACE = 'tarn'

/**
 * The branch every new lake starts with.
 *
 * @example
 * ```ts
 * await catalog.getBranch(DEFAULT_BRANCH)
 * ```
 */
export const DEFAULT_BRANCH = 'main'
