import type { Command } from 'commander'
import { shortHash } from '../../catalog/commit.js'
import type { CliContext } from '../context.js'
import { commitJson, emit, type OutputOptions } from '../output.js'

function writeOptions(o: { branch?: string; message?: string }): { branch?: string; message?: string } {
  return { ...(o.branch ? { branch: o.branch } : {}), ...(o.message ? { message: o.message } : {}) }
}

/**
 * Registers `tarn namespace ls|create|rm` (`-b/--branch` for writes, `-r/--ref` for reads).
 */
export function registerNamespaceCommands(program: Command, ctx: CliContext): void {
  const ns = program.command('namespace').description('list, create and drop namespaces')
  ns.command('ls', { isDefault: true })
    .description('list namespaces (also `tarn namespace` alone)')
    .option('-r, --ref <ref>', 'ref to read (default: the active branch)')
    .option('--json', 'print JSON')
    .action(async (o: OutputOptions & { ref?: string }) => {
      const lake = await ctx.lake()
      const list = await lake.listNamespaces(o.ref ? { ref: o.ref } : {})
      emit(ctx.io, o, { ref: o.ref ?? lake.activeBranch(), namespaces: list }, () =>
        list.map((n) => n.namespace).join('\n'),
      )
    })
  ns.command('create')
    .description('create a namespace')
    .argument('<namespace>')
    .option('-b, --branch <branch>', 'branch to write (default: the active branch)')
    .option('-m, --message <msg>', 'commit message')
    .option('--json', 'print JSON')
    .action(async (name: string, o: OutputOptions & { branch?: string; message?: string }) => {
      const lake = await ctx.lake()
      const c = await lake.createNamespace(name, writeOptions(o))
      emit(
        ctx.io,
        o,
        { namespace: name, branch: o.branch ?? lake.activeBranch(), commit: commitJson(c) },
        () => `Created namespace ${name} on ${o.branch ?? lake.activeBranch()} (${shortHash(c.hash)})`,
      )
    })
  ns.command('rm')
    .description('drop an empty namespace')
    .argument('<namespace>')
    .option('-b, --branch <branch>', 'branch to write (default: the active branch)')
    .option('-m, --message <msg>', 'commit message')
    .option('--json', 'print JSON')
    .action(async (name: string, o: OutputOptions & { branch?: string; message?: string }) => {
      const lake = await ctx.lake()
      const c = await lake.dropNamespace(name, writeOptions(o))
      emit(
        ctx.io,
        o,
        { namespace: name, branch: o.branch ?? lake.activeBranch(), commit: commitJson(c) },
        () => `Dropped namespace ${name} on ${o.branch ?? lake.activeBranch()} (${shortHash(c.hash)})`,
      )
    })
}
