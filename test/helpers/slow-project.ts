/** One file of a project as the run API takes it. */
export interface ProjectFile {
  readonly path: string
  readonly content: string
}

/**
 * A project named `slow` whose TS model `slow` waits `ms` before returning the lake's `zones` table, so a test can act
 * while a run is in the middle of a model; with `first`, it also has a SQL model `first` (3 rows) that is
 * materialised before `slow` ends.
 */
export function slowProject(ms: number, options: { first?: boolean } = {}): ProjectFile[] {
  return [
    { path: 'tarn_project.yml', content: 'name: slow\nnamespace: tarn\n' },
    ...(options.first
      ? [{ path: 'first.sql', content: '-- tarn: materialize=REPLACE\nSELECT range AS n FROM range(3)\n' }]
      : []),
    {
      path: 'slow.ts',
      content: [
        "import { input, model } from 'tarn'",
        'export const slow = model(',
        "  { inputs: { zones: input('zones') }, materialize: 'REPLACE' },",
        '  async ({ zones }) => {',
        `    await new Promise((r) => setTimeout(r, ${ms}))`,
        '    return zones',
        '  },',
        ')',
        '',
      ].join('\n'),
    },
  ]
}
