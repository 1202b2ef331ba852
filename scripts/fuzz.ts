/**
 * `npm run fuzz [-- --seconds N] [--parser NAME[,NAME…]] [--seed S --path P] [--runs N] [--list]`
 *
 * Runs every fuzz target under test/fuzz/targets/ (or the named ones), one after
 * the other, each in its own worker thread with a heap limit and a watchdog:
 * --seconds N gives each target N seconds (default: 30 s in total, split over the
 * targets). Prints cases and cases per second per target; on a failure prints its
 * kind, seed, path and fast-check's minimised input and exits 1.
 * --seed S --path P replays one reported case (add --runs 1 to stop there).
 * --crash N runs the SIGKILL crash loop (test/integration/crash.test.ts) for N kills
 * instead, and prints its kills and losses (--seed repeats a loop).
 * `npm run fuzz --seconds 60` (no `--`) works too: npm passes it as npm_config_seconds.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadAllTargets, targetFile } from '../test/fuzz/targets.js';
import { formatFailure, replayInput, replayPathProblem, showInput, type AnyTarget, type FuzzFailureReport, type FuzzRunReport } from '../test/fuzz/harness.js';
import { parseFuzzArgs, UsageError } from './fuzz-args.js';

const HEAP_LIMIT_MB = 512;
const DEFAULT_TOTAL_SECONDS = 30;
/** Loading tsx and the targets on a busy machine. */
const STARTUP_MS = 120_000;

interface Outcome {
  report?: FuzzRunReport;
  failure?: FuzzFailureReport;
  cases: number;
  ms: number;
}

function runInWorker(target: AnyTarget, job: { seconds?: number; numRuns?: number; seed: number; path?: string; timeoutMs: number }): Promise<Outcome> {
  const counter = new SharedArrayBuffer(4);
  const count = new Int32Array(counter);
  const started = performance.now();
  // The worker's own per-case bound catches awaited hangs; this catches a synchronous loop.
  const hangMs = job.timeoutMs + 5000;
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./fuzz-worker.mjs', import.meta.url), {
      workerData: { name: target.name, file: targetFile(target.name), ...job, counter },
      resourceLimits: { maxOldGenerationSizeMb: HEAP_LIMIT_MB },
    });
    let last = -1;
    let lastChange = performance.now();
    let done = false;
    const abort = (kind: 'hang' | 'out-of-memory', message: string) => {
      if (done) return;
      done = true;
      clearInterval(watch);
      void worker.terminate();
      const n = Atomics.load(count, 0);
      if (first) {
        // It hung while shrinking an earlier failure: report that failure, unshrunk.
        resolve({ cases: n, ms: performance.now() - started, failure: { ...first, seed: job.seed, message: `${first.message} (then ${kind} while shrinking: ${message})` } });
        return;
      }
      // Case n (1-based) of the generation phase is fast-check path n-1.
      const path = job.path ?? String(Math.max(0, n - 1));
      let input = '(could not regenerate)';
      try {
        const x = replayInput(target, job.seed, path);
        if (x !== undefined) input = showInput(target, x);
      } catch {
        /* keep the placeholder */
      }
      resolve({ cases: n, ms: performance.now() - started, failure: { kind, seed: job.seed, path, input, message, regenerated: true } });
    };
    const watch = setInterval(() => {
      const n = Atomics.load(count, 0);
      if (n !== last) {
        last = n;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > (n === 0 ? STARTUP_MS : hangMs)) {
        abort('hang', n === 0 ? `the worker did not start within ${STARTUP_MS} ms` : `case ${n} made no progress for ${hangMs} ms (a synchronous loop, or a heap at its limit)`);
      }
    }, 250);
    let first: Omit<FuzzFailureReport, 'seed'> | undefined;
    worker.on('message', (msg: { report?: FuzzRunReport; firstFailure?: Omit<FuzzFailureReport, 'seed'> }) => {
      if (msg.firstFailure) {
        first = msg.firstFailure;
        return;
      }
      const report = msg.report!;
      if (done) return;
      done = true;
      clearInterval(watch);
      void worker.terminate();
      resolve({ report, cases: report.cases, ms: report.ms, ...(report.failure ? { failure: report.failure } : {}) });
    });
    worker.on('error', (e: Error & { code?: string }) => {
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') abort('out-of-memory', `case ${Atomics.load(count, 0)} exhausted the ${HEAP_LIMIT_MB} MB heap`);
      else if (!done) {
        done = true;
        clearInterval(watch);
        // The case that was running when the worker died: its path replays it (an empty --path would not).
        const n = Atomics.load(count, 0);
        resolve({ cases: n, ms: performance.now() - started, failure: { kind: 'untyped-error', seed: job.seed, path: job.path ?? String(Math.max(0, n - 1)), input: '(worker crashed)', message: e.stack ?? e.message } });
      }
    });
    worker.on('exit', () => {
      if (!done) abort('out-of-memory', `worker exited during case ${Atomics.load(count, 0)}`);
    });
  });
}

async function main(): Promise<number> {
  const opts = parseFuzzArgs(process.argv.slice(2));
  if (opts.crash !== undefined) return crashLoop(opts.crash, opts.seed);
  const all = await loadAllTargets();
  if (opts.list) {
    for (const t of all) console.log(`${t.name.padEnd(24)} ${t.entry ?? ''}`);
    return 0;
  }
  const unknown = opts.parsers.filter((p) => !all.some((t) => t.name === p));
  if (unknown.length) {
    console.error(`fuzz: no target named ${unknown.join(', ')} (targets: ${all.map((t) => t.name).join(', ')})`);
    return 2;
  }
  const selected = opts.parsers.length ? all.filter((t) => opts.parsers.includes(t.name)) : all;
  const perTarget = opts.seconds ?? DEFAULT_TOTAL_SECONDS / selected.length;
  const replaying = opts.path !== undefined;
  if (replaying) {
    for (const t of selected) {
      const problem = replayPathProblem(t, opts.seed!, opts.path!);
      if (problem) throw new UsageError(problem);
    }
  }
  console.log(
    replaying
      ? `fuzz: replaying seed ${opts.seed} path ${opts.path}`
      : `fuzz: ${selected.length} target(s), ${opts.runs ? `${opts.runs} cases` : `${perTarget.toFixed(1)} s`} each, heap limit ${HEAP_LIMIT_MB} MB, per-case bound ${opts.timeoutMs} ms`,
  );
  console.log(`${'target'.padEnd(24)} ${'cases'.padStart(10)} ${'seconds'.padStart(8)} ${'cases/s'.padStart(10)}  result`);
  const failures: Array<[string, FuzzFailureReport]> = [];
  const wallStart = performance.now();
  let fuzzMs = 0;
  for (const t of selected) {
    const seed = opts.seed ?? (Date.now() ^ (Math.random() * 0x100000000)) | 0;
    const job = {
      seed,
      timeoutMs: opts.timeoutMs,
      ...(opts.path !== undefined ? { path: opts.path } : {}),
      ...(opts.runs !== undefined ? { numRuns: opts.runs } : opts.path === undefined ? { seconds: perTarget } : {}),
    };
    const o = await runInWorker(t, job);
    const secs = o.ms / 1000;
    const rate = o.cases / Math.max(secs, 1e-9);
    console.log(`${t.name.padEnd(24)} ${String(o.cases).padStart(10)} ${secs.toFixed(1).padStart(8)} ${rate.toFixed(0).padStart(10)}  ${o.failure ? `FAIL (${o.failure.kind})` : 'ok'}`);
    if (o.failure) failures.push([t.name, o.failure]);
    fuzzMs += o.ms;
  }
  // The seconds column is fuzzing time; each target's worker also loads tsx and its module first.
  console.log(`fuzz: ${(fuzzMs / 1000).toFixed(1)} s of cases in ${((performance.now() - wallStart) / 1000).toFixed(1)} s wall (worker start-up included)`);
  for (const [name, f] of failures) console.log(`\n${formatFailure(name, f)}`);
  if (failures.length) console.log(`\nfuzz: ${failures.length} target(s) failed`);
  return failures.length ? 1 : 0;
}

/**
 * The suite's crash loop, lengthened: real children SIGKILLed at random moments while
 * they annotate, cache, approve and attach (the suite runs 200). Any loss fails a
 * subtest there, so a passing run is N kills and 0 losses.
 */
function crashLoop(iterations: number, seed: number | undefined): Promise<number> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  console.log(`fuzz: crash loop, ${iterations} SIGKILLs over session saves, cache writes, approve and attach${seed !== undefined ? ` (seed ${seed})` : ''}`);
  const started = performance.now();
  const child = spawn(process.execPath, ['scripts/run-tests.mjs', 'test/integration/crash.test.ts'], {
    cwd: root,
    env: { ...process.env, VOUCH_CRASH_ITERATIONS: String(iterations), ...(seed !== undefined ? { VOUCH_CRASH_SEED: String(seed) } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => void (out += d));
  child.stderr.on('data', (d: Buffer) => void (out += d));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const secs = ((performance.now() - started) / 1000).toFixed(0);
      const summary = /crash loop: (\d+) kills, 0 losses \(seed (-?\d+)\); per kind: (\{.*?\});/.exec(out);
      if (code === 0 && summary) {
        const perKind = Object.entries(JSON.parse(summary[3]!) as Record<string, { iterations: number }>).map(([k, v]) => `${k} ${v.iterations}`);
        console.log(`crash: ${summary[1]} iterations, 0 losses (${perKind.join(', ')}; seed ${summary[2]}) in ${secs} s`);
        resolve(0);
        return;
      }
      // A loss or a broken run: the test runner's own report names the iteration and what was lost.
      console.log(out.trimEnd());
      const seedSeen = /crash loop: SIGKILL at random moments \(seed (-?\d+)/.exec(out)?.[1];
      console.log(`\ncrash: FAIL after ${secs} s (exit ${code})${seedSeen ? `; repeat it with npm run fuzz -- --crash ${iterations} --seed ${seedSeen}` : ''}`);
      resolve(1);
    });
  });
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    // A usage mistake is one line; anything else is the harness's own failure and keeps its stack.
    console.error(`fuzz: ${e instanceof UsageError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(2);
  },
);
