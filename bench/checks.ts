/**
 * Checks speed: every built-in check on the bench image (~100k files), from
 * its cached analysis (the analysis and layer walks are cached first, so no
 * layer is read while timing). Target: all checks together ≤ 1 s.
 *
 * `seconds` is the check run over the context (buildContext + runChecks);
 * `loadSeconds` is what comes before it from the cache (analysis, walks,
 * merged filesystem, catalogue); the trust chain is skipped (no attachments).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildContext } from '../src/core/checks/context.js';
import { loadCheckInputs, loadSharedInputs } from '../src/core/checks/index.js';
import { defaultRegistry } from '../src/core/checks/registry.js';
import { runChecks } from '../src/core/checks/run.js';
import { inspectReference } from '../src/core/layers/inspect.js';
import { ensureBenchImage } from './generate.js';

export interface ChecksBench {
  checks: number;
  /** Every path of the merged filesystem the checks see: files, links and folders. */
  files: number;
  seconds: number;
  loadSeconds: number;
  results: number;
  slowest: Array<{ id: string; ms: number }>;
}

export async function benchChecks(): Promise<ChecksBench> {
  const img = await ensureBenchImage();
  // Cache the analysis and walks first (reads the layers once if this cache has not seen the image).
  await inspectReference(img.reference);
  const registry = defaultRegistry();
  const shared = await loadSharedInputs({ noChain: true });
  const t0 = performance.now();
  const inputs = await loadCheckInputs(img.reference, shared, { noChain: true });
  const t1 = performance.now();
  const timings: Array<{ id: string; ms: number }> = [];
  const ctx = buildContext(inputs);
  const results = runChecks(ctx, registry.all(), { onTiming: (id, ms) => timings.push({ id, ms }) });
  const t2 = performance.now();
  return {
    checks: registry.all().length,
    files: ctx.files.length,
    seconds: Number(((t2 - t1) / 1000).toFixed(3)),
    loadSeconds: Number(((t1 - t0) / 1000).toFixed(3)),
    results: results.length,
    slowest: timings.sort((a, b) => b.ms - a.ms).slice(0, 5).map((t) => ({ id: t.id, ms: Number(t.ms.toFixed(1)) })),
  };
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]).replace(/\.[cm]?[jt]s$/, '') === fileURLToPath(import.meta.url).replace(/\.[cm]?[jt]s$/, '');
if (isMain) {
  benchChecks().then((r) => console.log(JSON.stringify(r, null, 2)));
}
