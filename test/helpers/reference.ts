import { join } from 'node:path'

/**
 * The reference data the tests read, kept in the repository under `test/fixtures/reference/` (see its README for
 * where each table and trace came from and what results it must give), or the directory `TARN_REFERENCE_DIR` names.
 */
export const REFERENCE_DIR =
  process.env.TARN_REFERENCE_DIR ?? join(import.meta.dirname, '..', 'fixtures', 'reference')
