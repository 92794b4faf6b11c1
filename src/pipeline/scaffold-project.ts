import { existsSync } from 'node:fs'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { repoPaths } from '../runtime/repo-paths.js'
import { TarnError } from '../util/errors.js'
import { PROJECT_FILE } from './project.js'

/**
 * What {@link scaffoldProject} wrote: the project directory and its files (relative paths).
 */
export interface ScaffoldedProject {
  readonly dir: string
  readonly name: string
  readonly files: readonly string[]
}

/** The project's name and namespace: the folder's name as an identifier. */
function projectName(dir: string): string {
  const base = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
  return /^[a-z_]/.test(base) ? base : `p_${base || 'project'}`
}

/** The `tsconfig.json` that lets editors resolve `import ... from 'tarn'` to the installed package's types. */
function tsconfig(): string {
  const { root, nodeModules } = repoPaths()
  const paths: Record<string, string[]> = { tarn: [join(root, 'dist', 'pipeline', 'sdk.d.ts')] }
  const arrow = join(nodeModules, 'apache-arrow')
  if (existsSync(arrow)) paths['apache-arrow'] = [arrow]
  const doc = {
    compilerOptions: {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      paths,
    },
    include: ['**/*.ts'],
  }
  return `${JSON.stringify(doc, null, 2)}\n`
}

function files(name: string): Record<string, string> {
  return {
    [PROJECT_FILE]: [
      `# A tarn pipeline project. Plan it with \`tarn run -p . --dry-run\`, run it with \`tarn run -p .\`.`,
      `name: ${name}`,
      '# every model writes <namespace>.<model>; a run creates the namespace when it is missing',
      `namespace: ${name}`,
      'parameters:',
      '  min_amount:',
      '    type: number',
      '    default: 0',
      '    description: orders below this amount are left out (tarn run --param min_amount=10)',
      '',
    ].join('\n'),
    'orders.sql': [
      '-- tarn: materialize=REPLACE',
      '-- A SQL model: one SELECT over lake tables and other models, named by its file (table <namespace>.orders).',
      '-- These sample rows let the project run on an empty lake; read your own tables instead, e.g. FROM tarn.trips.',
      'SELECT',
      '  range AS order_id,',
      "  'customer_' || (range % 3) AS customer,",
      '  CAST(range * 7 % 50 AS DOUBLE) AS amount',
      'FROM range(20)',
      'WHERE range * 7 % 50 >= $min_amount',
      '',
    ].join('\n'),
    'customer_totals.ts': [
      "import { input, model } from 'tarn'",
      '',
      '/** A TypeScript model: its inputs arrive as Apache Arrow tables; it returns a table or plain objects. */',
      'export const customer_totals = model(',
      '  {',
      "    inputs: { orders: input('orders', { columns: ['customer', 'amount'] }) },",
      "    materialize: 'REPLACE',",
      '  },',
      '  async ({ orders }, ctx) => {',
      '    const totals = new Map<string, number>()',
      '    for (const o of orders.toArray()) {',
      '      const customer = String(o.customer)',
      '      totals.set(customer, (totals.get(customer) ?? 0) + Number(o.amount))',
      '    }',
      "    ctx.log(orders.numRows, 'orders of', totals.size, 'customers')",
      '    return [...totals].map(([customer, total]) => ({ customer, total }))',
      '  },',
      ')',
      '',
    ].join('\n'),
    'checks.ts': [
      "import { expect, expectation, input } from 'tarn'",
      '',
      '/** An expectation: it fails the run (and nothing is merged) when it returns false or failing rows. */',
      'export const every_customer_has_a_total = expectation(',
      "  { inputs: { totals: input('customer_totals', { columns: ['customer', 'total'] }) } },",
      "  async ({ totals }) => expect.noNulls(totals, 'total'),",
      ')',
      '',
    ].join('\n'),
    'tsconfig.json': tsconfig(),
  }
}

/**
 * Writes a new pipeline project into `dir` (created when missing; refused with `PROJECT_DIR_NOT_EMPTY` when it holds
 * anything): `tarn_project.yml`, a SQL model, a TS model, an expectation and a `tsconfig.json` pointing editors at
 * the installed package's types. The project runs as it is on an empty lake.
 */
export async function scaffoldProject(dir: string): Promise<ScaffoldedProject> {
  const root = resolve(dir)
  const entries = await readdir(root).catch((e: NodeJS.ErrnoException) => {
    const errno = e.code
    if (errno === 'ENOENT') return []
    if (errno === 'ENOTDIR')
      throw new TarnError('PROJECT_DIR_NOT_EMPTY', `${root} is a file, not a directory`, { dir: root })
    throw e
  })
  if (entries.length > 0)
    throw new TarnError(
      'PROJECT_DIR_NOT_EMPTY',
      `${root} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}): tarn new writes into a new or empty directory`,
      { dir: root, entries: entries.slice(0, 10) },
    )
  const name = projectName(root)
  const content = files(name)
  await mkdir(root, { recursive: true })
  for (const [file, text] of Object.entries(content)) await writeFile(join(root, file), text, { flag: 'wx' })
  return { dir: root, name, files: Object.keys(content) }
}
