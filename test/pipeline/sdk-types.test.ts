import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { TAXI, writeProject } from './project-dir.js'

const SDK = join(import.meta.dirname, '..', '..', 'src', 'pipeline', 'sdk.ts')

function typeErrors(files: readonly string[]): string[] {
  const program = ts.createProgram([...files], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(import.meta.dirname, '..', '..', 'node_modules', '@types')],
    baseUrl: '.',
    paths: { tarn: [SDK] },
  })
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || files.includes(d.file.fileName))
    .map((d) => {
      const where =
        d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined
      return `${d.file?.fileName ?? ''}:${(where?.line ?? 0) + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`
    })
}

describe('the authoring SDK’s types', () => {
  it('type-check the example’s TS model and expectations in strict mode', () => {
    expect(typeErrors([join(TAXI, 'zones_enriched.ts'), join(TAXI, 'checks.ts')])).toEqual([])
  })

  it('give each model the Arrow tables of its declared inputs and refuse unknown ones', () => {
    const dir = writeProject({
      'bad.ts': [
        "import { input, model } from 'tarn'",
        'export const m = model(',
        "  { inputs: { trips: input('trips') }, materialize: 'REPLACE' },",
        '  async ({ zones }) => zones,',
        ')',
        "export const n = model({ materialize: 'SOMETIMES' }, () => [])",
      ].join('\n'),
    })
    const errors = typeErrors([join(dir, 'bad.ts')])
    expect(errors.some((e) => e.includes(':4:') && e.includes('zones'))).toBe(true)
    expect(errors.some((e) => e.includes(':6:') && e.includes('SOMETIMES'))).toBe(true)
  })
})
