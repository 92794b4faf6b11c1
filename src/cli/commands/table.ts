import type { Command } from 'commander'
import { shortHash } from '../../catalog/commit.js'
import type { TableDetails, TableWriteResult } from '../../lake/lake.js'
import type { CliContext } from '../context.js'
import { humanBytes } from '../format/human-bytes.js'
import {
  commitJson,
  emit,
  exportJson,
  exportText,
  table as formatTable,
  type OutputOptions,
} from '../output.js'

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

function writeJson(r: TableWriteResult): Record<string, unknown> {
  return { ...r, commit: commitJson(r.commit) }
}

function importEnd(r: TableWriteResult): { dataCommit: string; rows: number; files: readonly string[] } {
  return { dataCommit: r.commit.hash, rows: r.addedRecords, files: r.files }
}

function detailsText(d: TableDetails): string {
  const lines = [
    `table ${d.table} at ${d.ref}`,
    `metadata  ${d.state.metadataLocation}`,
    `snapshot  ${d.currentSnapshotId ?? '(none)'}   records ${d.recordCount}   files ${d.dataFiles} (+${d.deleteFiles} delete)   ${humanBytes(d.sizeBytes)}`,
    '',
    'schema:',
    formatTable(d.schema.map((f) => [`  ${f.id}`, f.name, f.type, f.required ? 'required' : 'optional'])),
  ]
  if (d.partitionSpec.length > 0) {
    lines.push(
      '',
      'partitioned by:',
      ...d.partitionSpec.map((p) => `  ${p.transform}(${p.sourceColumn}) as ${p.name}`),
    )
  }
  lines.push('', 'snapshots:', ...d.snapshots.map((s) => `  ${s.snapshotId}  ${s.timestamp}  ${s.operation}`))
  return lines.join('\n')
}

/**
 * Registers `tarn table ls|get|rm|create|import|create-external`.
 */
export function registerTableCommands(program: Command, ctx: CliContext): void {
  const t = program.command('table').description('list, inspect, create, import and drop tables')

  t.command('ls', { isDefault: true })
    .description('list tables (also `tarn table` alone)')
    .option('-r, --ref <ref>', 'ref to read (default: the active branch)')
    .option('--namespace <ns>', 'only tables of this namespace')
    .option('--json', 'print JSON')
    .action(async (o: OutputOptions & { ref?: string; namespace?: string }) => {
      const lake = await ctx.lake()
      const tables = await lake.listTables({
        ...(o.ref ? { ref: o.ref } : {}),
        ...(o.namespace ? { namespace: o.namespace } : {}),
        stats: true,
      })
      const docs = tables.map(({ stats, ...t }) => ({
        ...t,
        rows: stats?.rows ?? 0,
        files: stats?.files ?? 0,
        sizeBytes: stats?.sizeBytes ?? 0,
      }))
      emit(ctx.io, o, { ref: o.ref ?? lake.activeBranch(), tables: docs }, () =>
        docs.length === 0
          ? `no tables at ${o.ref ?? lake.activeBranch()}`
          : formatTable([
              ['TABLE', 'ROWS', 'FILES', 'SIZE', 'SNAPSHOT'],
              ...docs.map((x) => [
                x.table,
                String(x.rows),
                String(x.files),
                humanBytes(x.sizeBytes),
                x.state.snapshotId ?? '-',
              ]),
            ]),
      )
    })

  t.command('get')
    .description('schema, partition spec, snapshots, record count, size and metadata location')
    .argument('<table>')
    .option('-r, --ref <ref>', 'ref to read (default: the active branch)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: OutputOptions & { ref?: string }) => {
      const d = await (await ctx.lake()).getTable(name, o.ref ? { ref: o.ref } : {})
      emit(ctx.io, o, d, () => detailsText(d))
    })

  t.command('export')
    .description('write a table to a Parquet, CSV or JSON-lines file through DuckDB')
    .argument('<table>')
    .requiredOption(
      '-o, --output <file>',
      'the file to write (format from its extension: .parquet, .csv, .jsonl)',
    )
    .option('--format <format>', 'parquet, csv or jsonl (default: from the extension)')
    .option('--force', 'overwrite an existing file')
    .option('-r, --ref <ref>', 'ref to read (default: the active branch)')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        o: OutputOptions & { output: string; format?: string; force?: boolean; ref?: string },
      ) => {
        const r = await (await ctx.lake()).exportTable(name, {
          output: o.output,
          cwd: ctx.io.cwd,
          ...(o.ref ? { ref: o.ref } : {}),
          ...(o.format ? { format: o.format } : {}),
          ...(o.force ? { force: true } : {}),
        })
        emit(ctx.io, o, { table: name, ...exportJson(r) }, () => exportText(r))
      },
    )

  t.command('rm')
    .description('drop a table from a branch')
    .argument('<table>')
    .option('-b, --branch <branch>', 'branch to write (default: the active branch)')
    .option('-m, --message <msg>', 'commit message')
    .option('--json', 'print JSON')
    .action(async (name: string, o: OutputOptions & { branch?: string; message?: string }) => {
      const lake = await ctx.lake()
      const c = await lake.dropTable(name, {
        ...(o.branch ? { branch: o.branch } : {}),
        ...(o.message ? { message: o.message } : {}),
      })
      emit(
        ctx.io,
        o,
        { table: name, commit: commitJson(c) },
        () => `Dropped table ${name} (${shortHash(c.hash)})`,
      )
    })

  t.command('create')
    .description('create a table from files (Parquet, CSV, JSON lines; paths, globs or s3:// URIs)')
    .argument('<table>')
    .requiredOption('--from <glob|uri>', 'files to load (repeatable)', collect)
    .option('--partitioned-by <spec>', 'partition spec, e.g. "day(ts), region"')
    .option('-b, --branch <branch>', 'branch to write (default: the active branch)')
    .option('-m, --message <msg>', 'commit message')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        o: OutputOptions & { from: string[]; partitionedBy?: string; branch?: string; message?: string },
      ) => {
        const lake = await ctx.lake()
        ctx.io.err(`importing ${o.from.join(', ')} ...\n`)
        const r = await lake.trackJob(
          { kind: 'import', target: o.branch ?? lake.activeBranch(), table: name, files: o.from },
          () =>
            lake.createTable(name, {
              from: o.from,
              cwd: ctx.io.cwd,
              ...(o.partitionedBy ? { partitionedBy: o.partitionedBy } : {}),
              ...(o.branch ? { branch: o.branch } : {}),
              ...(o.message ? { message: o.message } : {}),
            }),
          importEnd,
        )
        emit(
          ctx.io,
          o,
          writeJson(r),
          () =>
            `Created table ${r.table} on ${r.branch}: ${r.addedRecords} rows from ${r.files.length} file(s) (${shortHash(r.commit.hash)})`,
        )
      },
    )

  t.command('import')
    .description('append files to a table, or replace its rows with them (one commit)')
    .argument('<table>')
    .requiredOption('--from <glob|uri>', 'files to load (repeatable)', collect)
    .option('--force', 'import files even if they were imported before')
    .option('--replace', "replace the table's rows with the files' rows (keeps the table and its history)")
    .option(
      '--evolve-schema',
      "add the files' new columns and widen column types (int->long, float->double, ...)",
    )
    .option('-b, --branch <branch>', 'branch to write (default: the active branch)')
    .option('-m, --message <msg>', 'commit message')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        o: OutputOptions & {
          from: string[]
          force?: boolean
          replace?: boolean
          evolveSchema?: boolean
          branch?: string
          message?: string
        },
      ) => {
        const lake = await ctx.lake()
        ctx.io.err(`importing ${o.from.join(', ')} ...\n`)
        const r = await lake.trackJob(
          { kind: 'import', target: o.branch ?? lake.activeBranch(), table: name, files: o.from },
          () =>
            lake.importTable(name, {
              from: o.from,
              cwd: ctx.io.cwd,
              ...(o.force ? { force: true } : {}),
              ...(o.replace ? { replace: true } : {}),
              ...(o.evolveSchema ? { evolveSchema: true } : {}),
              ...(o.branch ? { branch: o.branch } : {}),
              ...(o.message ? { message: o.message } : {}),
            }),
          importEnd,
        )
        emit(ctx.io, o, writeJson(r), () =>
          o.replace
            ? `Replaced the rows of ${r.table} on ${r.branch} with ${r.addedRecords} rows from ${r.files.length} file(s) (${shortHash(r.commit.hash)})`
            : `Imported ${r.addedRecords} rows from ${r.files.length} file(s) into ${r.table} on ${r.branch} (${shortHash(r.commit.hash)})`,
        )
      },
    )

  t.command('create-external')
    .description('register an existing Iceberg table by its metadata file (zero-copy)')
    .argument('<table>')
    .requiredOption('--metadata <uri>', 'metadata JSON file (path, file:// or s3:// URI)')
    .option('--allow-moved-paths', 'read paths under the recorded location from where the metadata lives now')
    .option('-b, --branch <branch>', 'branch to write (default: the active branch)')
    .option('-m, --message <msg>', 'commit message')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        o: OutputOptions & { metadata: string; allowMovedPaths?: boolean; branch?: string; message?: string },
      ) => {
        const lake = await ctx.lake()
        const r = await lake.registerTable(name, {
          metadata: o.metadata,
          cwd: ctx.io.cwd,
          ...(o.allowMovedPaths ? { allowMovedPaths: true } : {}),
          ...(o.branch ? { branch: o.branch } : {}),
          ...(o.message ? { message: o.message } : {}),
        })
        emit(
          ctx.io,
          o,
          writeJson(r),
          () => `Registered table ${r.table} on ${r.branch} (${shortHash(r.commit.hash)})`,
        )
      },
    )
}
