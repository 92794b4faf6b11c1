import type { Command } from 'commander'
import type { CliContext } from './context.js'

/** Adds a module's commands to the program. */
export type RegisterCommands = (program: Command, ctx: CliContext) => void

/**
 * One top-level command as `tarn --help` lists it, without loading its module: its name, the term the help shows
 * (name, `[options]`, arguments), its description, and the module that defines it.
 */
export interface CommandDescriptor {
  readonly name: string
  readonly term: string
  readonly description: string
  readonly module: CommandModule
}

/** The modules under `cli/commands/`, each registering one or more top-level commands. */
export type CommandModule =
  | 'lake'
  | 'branch'
  | 'history'
  | 'namespace'
  | 'table'
  | 'run'
  | 'new'
  | 'job'
  | 'query'
  | 'gc'
  | 'serve'
  | 'sim'
  | 'worker'

/**
 * Every top-level command, in help order. The help of each command's own module must agree with its entry here
 * (test/cli/startup.test.ts compares the lazy `tarn --help` with the help of the fully loaded program).
 */
export const COMMANDS: readonly CommandDescriptor[] = [
  {
    name: 'init',
    term: 'init [options]',
    description: 'create the lake if missing (idempotent)',
    module: 'lake',
  },
  {
    name: 'info',
    term: 'info [options]',
    description: 'version, lake, catalog backend, warehouse, active branch',
    module: 'lake',
  },
  {
    name: 'checkout',
    term: 'checkout [options] <branch>',
    description: 'set the active branch',
    module: 'lake',
  },
  {
    name: 'branch',
    term: 'branch',
    description: 'list, create, delete, compare and merge branches',
    module: 'branch',
  },
  {
    name: 'log',
    term: 'log [options] [ref]',
    description: 'commit history, newest first',
    module: 'history',
  },
  {
    name: 'revert',
    term: 'revert [options] <commit>',
    description: 'undo a whole commit with a new commit',
    module: 'history',
  },
  { name: 'tag', term: 'tag', description: 'list, create and delete tags', module: 'history' },
  {
    name: 'namespace',
    term: 'namespace',
    description: 'list, create and drop namespaces',
    module: 'namespace',
  },
  {
    name: 'table',
    term: 'table',
    description: 'list, inspect, create, import and drop tables',
    module: 'table',
  },
  {
    name: 'run',
    term: 'run [options]',
    description: 'run a pipeline project on a branch as one transaction',
    module: 'run',
  },
  {
    name: 'new',
    term: 'new [options] <dir>',
    description: 'create a pipeline project in a new or empty directory',
    module: 'new',
  },
  {
    name: 'job',
    term: 'job',
    description: 'jobs (runs, imports, queries): list, inspect, read logs, export code',
    module: 'job',
  },
  {
    name: 'rerun',
    term: 'rerun [options] <job-id>',
    description: "re-execute a job's code snapshot on its data commit (or -r REF)",
    module: 'job',
  },
  {
    name: 'query',
    term: 'query [options] [sql]',
    description: 'run read-only SQL over the tables at a ref (branch, tag, commit or time)',
    module: 'query',
  },
  {
    name: 'gc',
    term: 'gc [options]',
    description: 'delete warehouse files that no commit of any ref within the retention window can reach',
    module: 'gc',
  },
  {
    name: 'serve',
    term: 'serve [options]',
    description:
      'serve the lake over HTTP: /api/v1, the OpenAPI document at /api/openapi.json and the Iceberg REST catalog at /iceberg',
    module: 'serve',
  },
  { name: 'key', term: 'key', description: 'API keys of the server: create, list, delete', module: 'serve' },
  {
    name: 'sim',
    term: 'sim',
    description: 'simulate scheduling policies on pipeline workloads (Eudoxia-compatible)',
    module: 'sim',
  },
  {
    name: 'worker',
    term: 'worker [options]',
    description: 'run the nodes of remote runs (tarn run --remote) from the queue in the PostgreSQL catalog',
    module: 'worker',
  },
]

/**
 * Loads the module of a command group and returns its registration function (the only place command modules are
 * imported, so `tarn --help` and `tarn --version` load none of them).
 */
export async function loadCommandModule(module: CommandModule): Promise<RegisterCommands> {
  switch (module) {
    case 'lake':
      return (await import('./commands/lake.js')).registerLakeCommands
    case 'branch':
      return (await import('./commands/branch.js')).registerBranchCommands
    case 'history':
      return (await import('./commands/history.js')).registerHistoryCommands
    case 'namespace':
      return (await import('./commands/namespace.js')).registerNamespaceCommands
    case 'table':
      return (await import('./commands/table.js')).registerTableCommands
    case 'run':
      return (await import('./commands/run.js')).registerRunCommands
    case 'new':
      return (await import('./commands/new.js')).registerNewCommand
    case 'job':
      return (await import('./commands/job.js')).registerJobCommands
    case 'query':
      return (await import('./commands/query.js')).registerQueryCommands
    case 'gc':
      return (await import('./commands/gc.js')).registerGcCommands
    case 'serve':
      return (await import('./commands/serve.js')).registerServeCommands
    case 'sim': {
      const { registerSimCommands } = await import('./commands/sim.js')
      return (program, ctx) => registerSimCommands(program, ctx.io, ctx)
    }
    case 'worker':
      return (await import('./commands/worker.js')).registerWorkerCommand
  }
}
