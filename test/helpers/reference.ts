import { join } from 'node:path'

/**
 * The shared reference data (`../shared/reference` beside the checkout, as on developer machines and in CI), or the
 * directory `TARN_REFERENCE_DIR` names.
 */
export const REFERENCE_DIR =
  process.env.TARN_REFERENCE_DIR ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'reference')
