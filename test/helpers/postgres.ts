import pg from 'pg'

const DEFAULT_URL = 'postgres://tarn:tarn@127.0.0.1:5432/tarn'
let probed: Promise<string | undefined> | undefined

/**
 * The URL of a reachable PostgreSQL server for tests (`TARN_TEST_PG_URL`, else the local server `.ci/postgres.sh`
 * starts), or undefined — after printing why — when there is none. In CI (`CI=true`) a missing server is an error,
 * never a skip.
 */
export function postgresUrl(): Promise<string | undefined> {
  probed ??= (async () => {
    const url = process.env.TARN_TEST_PG_URL ?? DEFAULT_URL
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
    try {
      await client.connect()
      await client.query('select 1')
      return url
    } catch (e) {
      if (process.env.CI === 'true')
        throw new Error(`PostgreSQL is required in CI but ${url} is unreachable: ${e}`)
      console.warn(
        `[skip] PostgreSQL tests skipped: ${url} unreachable (${(e as Error).message}); run .ci/postgres.sh`,
      )
      return undefined
    } finally {
      await client.end().catch(() => undefined)
    }
  })()
  return probed
}

let counter = 0
/** A catalog URL in a fresh schema of the test database, so suites never see each other's data. */
export function freshSchemaUrl(base: string, label = 't'): string {
  const u = new URL(base)
  u.searchParams.set('schema', `${label}_${process.pid}_${Date.now().toString(36)}_${counter++}`)
  return u.toString()
}
