import { createRequire } from 'node:module'
import type ts from 'typescript'

let compiler: typeof ts | undefined

/**
 * The TypeScript compiler, loaded on first use. It is loaded with `require`: importing the 9 MB CommonJS file from
 * ESM makes Node scan all of it for its export names first, which took about three times as long as loading it
 * (1.3-1.6 s against 0.4-0.5 s on the shared 2-core machine), on every `tarn run` or `tarn plan` of a project with
 * TS models.
 */
export function typescriptCompiler(): typeof ts {
  compiler ??= createRequire(import.meta.url)('typescript') as typeof ts
  return compiler
}
