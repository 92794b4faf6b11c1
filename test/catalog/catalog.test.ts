import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PostgresBackend, SqliteBackend } from '../../src/catalog/index.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'
import { describeCatalogContract } from './catalog.contract.js'

const pg = await postgresUrl()

describeCatalogContract('sqlite', async () =>
  SqliteBackend.open(join(mkdtempSync(join(tmpdir(), 'tarn-cat-')), 'catalog.db')),
)
describeCatalogContract('postgres', async () => (pg ? PostgresBackend.open(freshSchemaUrl(pg)) : undefined))
