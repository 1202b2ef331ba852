#!/usr/bin/env node
// Bundles the workbench's UI entry (src/tui/run.tsx: Ink, React, @inkjs/ui, the screens)
// into one ESM file, dist/tui/run.js, so `vouch review` starts in one module load
// instead of hundreds (Ink alone is ~0.5 s unbundled). React's production build is
// used; Ink's optional devtools hook is stubbed. The analysis process is not bundled:
// it runs the ordinary compiled core (dist/src/tui/analysis-worker.js).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const t0 = performance.now();
await build({
  entryPoints: [`${root}src/tui/run.tsx`],
  outfile: `${root}dist/tui/run.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  jsx: 'automatic',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
  // CommonJS dependencies inside an ESM bundle still call require().
  banner: { js: "import { createRequire as __vouchRequire } from 'node:module'; const require = __vouchRequire(import.meta.url);" },
  plugins: [
    {
      name: 'no-devtools',
      setup(b) {
        b.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'stub' }));
        b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export default { initialize() {}, connectToDevTools() {} };', loader: 'js' }));
      },
    },
  ],
});
console.log(`build-tui: dist/tui/run.js in ${Math.round(performance.now() - t0)} ms`);
