import { buildDist, buildWebApp } from './build.js'

/**
 * Vitest global set-up: builds dist/ once before any test file runs (tests spawn the real CLI and workers from it),
 * and the web app into dist/web/ (the browser tests load it from tarn serve); stops the run when a build fails.
 */
export default function setup(): void {
  const { built } = buildDist()
  process.stdout.write(built ? 'dist/ built\n' : 'dist/ is up to date\n')
  buildWebApp()
}
