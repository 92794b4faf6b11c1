import { oneLine, TarnError } from './errors.js'

/**
 * The `CORRUPT_FILE` error for a file tarn wrote or registered that cannot be decoded: table metadata that is not
 * valid JSON, an Avro manifest with a broken block, a Parquet file without its footer. The message names the file
 * and keeps the decoder's reason on one line; `cause` holds the original error.
 */
export function corruptFile(file: string, kind: string, cause: unknown): TarnError {
  const reason = oneLine(cause instanceof Error ? cause.message : String(cause))
  return new TarnError('CORRUPT_FILE', `${kind} ${file} is corrupt: ${reason}`, { file, kind }, { cause })
}

/**
 * Runs `parse` over the contents of `file` and turns whatever it throws into a {@link corruptFile} error: parsers
 * are pure, so any failure means the file's bytes are bad, not the caller's arguments.
 */
export function parsingFile<T>(file: string, kind: string, parse: () => T): T {
  try {
    return parse()
  } catch (e) {
    throw corruptFile(file, kind, e)
  }
}

const PARQUET_DAMAGE =
  /(?:No magic bytes found at end of file|Footer length error in file|(?:Invalid|Corrupt)[^'\n]*Parquet[^'\n]*|too small to be a Parquet file[^']*) '([^']+)'/i

/**
 * The {@link corruptFile} error when DuckDB's `message` says a Parquet file is damaged (no footer magic, a file too
 * small to be Parquet, corrupt metadata), else undefined.
 */
export function corruptParquet(e: unknown): TarnError | undefined {
  const message = e instanceof Error ? e.message : String(e)
  const m = PARQUET_DAMAGE.exec(message)
  if (!m) return undefined
  return corruptFile(m[1] ?? 'unknown', 'Parquet file', e)
}
