import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// The web app served by `tarn serve` at `/`: Preact through the bundler's own JSX transform (no plugin), built into
// dist/web/ next to the compiled server so it ships in the npm package and needs no network at run time.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
})
