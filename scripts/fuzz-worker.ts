/**
 * One target in one worker thread (see scripts/fuzz.ts): a heap limit bounds its
 * memory and the main thread can terminate it when a synchronous case hangs.
 * It bumps a shared counter before every case, so the main thread knows which
 * case hung or ran out of memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadAllTargets, loadTargetModule } from '../test/fuzz/targets.js';
import { getTarget, runTarget } from '../test/fuzz/harness.js';

interface Job {
  name: string;
  /** The module under test/fuzz/targets/ that registers it: loading one module, not all, shortens start-up. */
  file?: string;
  seconds?: number;
  numRuns?: number;
  seed: number;
  path?: string;
  timeoutMs: number;
  counter: SharedArrayBuffer;
}

const job = workerData as Job;
if (job.file) await loadTargetModule(job.file);
else await loadAllTargets();
const target = getTarget(job.name);
if (!target) throw new Error(`no fuzz target ${job.name}`);
const count = new Int32Array(job.counter);
const report = await runTarget(target, {
  seed: job.seed,
  timeoutMs: job.timeoutMs,
  ...(job.seconds !== undefined ? { seconds: job.seconds } : {}),
  ...(job.numRuns !== undefined ? { numRuns: job.numRuns } : {}),
  ...(job.path !== undefined ? { path: job.path } : {}),
  onCase: (n) => Atomics.store(count, 0, n),
  onFirstFailure: (f) => parentPort!.postMessage({ firstFailure: f }),
});
parentPort!.postMessage({ report });
