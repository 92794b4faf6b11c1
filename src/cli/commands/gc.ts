import type { Command } from 'commander'
import { parseDuration } from '../../lake/garbage-collector.js'
import type { CliContext } from '../context.js'
import { emit, type OutputOptions } from '../output.js'

/**
 * Registers `tarn gc [--dry-run] [--older-than 7d] [--grace 1h]`.
 */
export function registerGcCommands(program: Command, ctx: CliContext): void {
  program
    .command('gc')
    .description('delete warehouse files that no commit of any ref within the retention window can reach')
    .option('--dry-run', 'report what would be deleted and delete nothing')
    .option('--older-than <duration>', 'retention window for commits that are not a ref head', '7d')
    .option('--grace <duration>', 'never delete files younger than this', '1h')
    .option('--json', 'print JSON')
    .action(async (o: OutputOptions & { dryRun?: boolean; olderThan: string; grace: string }) => {
      const lake = await ctx.lake()
      const report = await lake.gc({
        olderThanMs: parseDuration(o.olderThan),
        graceMs: parseDuration(o.grace),
        ...(o.dryRun ? { dryRun: true } : {}),
        onProgress: (line) => ctx.io.err(`${line}\n`),
      })
      emit(ctx.io, o, report, () =>
        [
          `${report.dryRun ? 'Would delete' : 'Deleted'} ${report.deleted} file(s), ${report.bytesDeleted} bytes`,
          `  traced ${report.commits} commits of ${report.refs} refs, ${report.metadataFiles} table metadata files, ${report.reachableFiles} reachable files`,
          `  kept ${report.keptYoung} unreachable file(s) younger than the grace period`,
          ...report.sample.slice(0, 20).map((k) => `  ${report.dryRun ? 'would delete' : 'deleted'} ${k}`),
        ].join('\n'),
      )
    })
}
