import type { LakeApi } from '../lake/lake-api.js'

/**
 * What the server needs of the lake it serves (the embedded `Lake` has all of it): the operations, the active
 * branch (the default of requests that name none) and per-caller handles whose commits carry the caller's name.
 *
 * @example
 * ```ts
 * const served: ServedLake = await Lake.open()
 * ```
 */
export interface ServedLake extends LakeApi {
  activeBranch(): string
  withAuthor(author: string): LakeApi
}
