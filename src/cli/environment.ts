/**
 * The environment variables tarn reads, with what each does: the `tarn --help` epilogue and the README list these.
 * A test fails when src/ reads a `TARN_` variable missing here. One line per variable, in alphabetical order.
 */
export const ENVIRONMENT = {
  TARN_API_KEY: 'the API key (from `tarn key create`) sent to the server of TARN_URL',
  TARN_BRANCH:
    'remote mode: the active branch for this shell, instead of the one `tarn checkout` keeps per server',
  TARN_CACHE_MAX_BYTES: 'size bound of the local cache of remote data files, e.g. 5G (default 10G)',
  TARN_CATALOG_URL: 'catalog database: postgres://user:pass@host/db (default SQLite in TARN_HOME)',
  TARN_DEBUG: 'when set, internal errors also print their stack trace on stderr',
  TARN_HOME: 'the lake directory (default ~/.tarn): catalog.db and warehouse/',
  TARN_PYTHON: 'the Python 3.10+ interpreter for .py models (default python3)',
  TARN_S3_EMULATE_CONDITIONAL_WRITES:
    'true when the S3 server ignores If-None-Match (s3rver, old MinIO): check before create-only writes',
  TARN_S3_FORCE_PATH_STYLE:
    'true/false: path-style S3 addressing (default true iff AWS_ENDPOINT_URL_S3 is set)',
  TARN_URL:
    'remote mode: every command runs against this tarn serve (http://host:8181) instead of a local lake',
  TARN_USER: 'author name recorded on commits (default the OS user name)',
  TARN_WAREHOUSE: 'where table files live: a directory or s3://bucket/prefix (default TARN_HOME/warehouse)',
} as const satisfies Readonly<Record<string, string>>

/**
 * The `Environment:` section of `tarn --help`, including the standard AWS variables an S3 warehouse uses.
 */
export function environmentHelp(): string {
  const names = Object.keys(ENVIRONMENT) as (keyof typeof ENVIRONMENT)[]
  const width = Math.max(...names.map((n) => n.length))
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${ENVIRONMENT[n]}`)
  return [
    '',
    'Environment:',
    ...lines,
    `  ${'AWS_REGION, AWS_*'.padEnd(width)}  S3 region and credentials (standard AWS variables and profiles)`,
    `  ${'AWS_ENDPOINT_URL_S3'.padEnd(width)}  an S3-compatible endpoint (MinIO, R2, ...)`,
    '',
  ].join('\n')
}
