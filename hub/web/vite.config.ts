/**
 * The consoles' build: one static app in dist/, served by the hub at `/`. Preact through oxc's
 * JSX transform (no Babel); sources in src/, hashed assets, a modulepreload for the first paint.
 */
import { defaultClientConditions, defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/',
  // The workspace packages' TypeScript sources (the export condition the rest of the project uses).
  resolve: { conditions: ['ioc-source', ...defaultClientConditions] },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 800,
    sourcemap: false,
  },
  server: { port: 5173 },
});
