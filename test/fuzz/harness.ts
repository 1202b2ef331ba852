/**
 * The fuzz harness: one small API that both the suite (test/fuzz/*.test.ts, a
 * fixed number of cases per target) and `npm run fuzz` (scripts/fuzz.ts, a
 * time budget per target) drive.
 *
 * A target is declared once, in a module under test/fuzz/targets/:
 *
 *   export const manifest = fuzzTarget({
 *     name: 'manifest',                      // unique; `npm run fuzz -- --parser manifest`
 *     arbitrary: fc.oneof(validDocs, mutatedDocs, fc.uint8Array({ maxLength: 4096 })),
 *     run: (bytes) => parseManifest(bytes, 'm'),   // may return a promise
 *     isExpectedError: typedError('INVALID_MANIFEST', 'UNSUPPORTED_MEDIA_TYPE'),
 *     ciRuns: 400,
 *   });
 *
 * and the suite registers it with `fuzzTest(manifest)`.
 *
 * Every case must end in a result or an error `isExpectedError` accepts
 * (default: any VouchError); the message of an expected error must be one
 * non-empty line. Anything else fails the case: an untyped exception, a case
 * that does not finish within `timeoutMs` (awaited promises are raced; a
 * synchronous loop is caught by the worker watchdog in scripts/fuzz.ts), or a
 * case that grows the process's resident memory by more than `maxCaseMemoryBytes`.
 * Generators must bound their input sizes (a few KB), so that limit means
 * "far beyond the input". A failure is shrunk by fast-check and reported with
 * its seed and path, which replay it exactly (`--seed S --path P`).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { VouchError, type ErrorCode } from '../../src/core/errors.js';

export interface FuzzTarget<T = unknown> {
  /** Unique name, used by `--parser` and in reports. */
  name: string;
  /** The parser entry point(s) it drives, for the report (e.g. 'oci/manifest.ts parseManifest'). */
  entry?: string;
  /** Structure-aware inputs: valid documents, mutated ones, raw bytes. Keep them small. */
  arbitrary: fc.Arbitrary<T>;
  /** Parse one input. Its return value is ignored; throwing is judged by isExpectedError. */
  run(input: T): unknown | Promise<unknown>;
  /** Default: any VouchError. */
  isExpectedError?(e: unknown): boolean;
  /** Cases the suite runs (keep the group's total inside the CI budget). */
  ciRuns: number;
  /** Per-case bound (default 10 s in the suite, where the machine may be busy; scripts/fuzz.ts passes its own). */
  timeoutMs?: number;
  /** Resident-memory growth one case may cause (default 64 MiB). */
  maxCaseMemoryBytes?: number;
  /** How to print an input (default fc.stringify; byte inputs print as hex below 4 KB). */
  show?(input: T): string;
}

export type AnyTarget = FuzzTarget<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const registry = new Map<string, AnyTarget>();

/** Declares a target and registers it by name (a duplicate name is a programming error). */
export function fuzzTarget<T>(t: FuzzTarget<T>): FuzzTarget<T> {
  if (registry.has(t.name)) throw new Error(`fuzz target ${t.name} declared twice`);
  registry.set(t.name, t as AnyTarget);
  return t;
}

/** Every target registered so far (import the target modules first; see ./targets.ts). */
export function registeredTargets(): AnyTarget[] {
  return [...registry.values()];
}

export function getTarget(name: string): AnyTarget | undefined {
  return registry.get(name);
}

/** An isExpectedError that accepts VouchErrors with one of these codes (all codes when none given). */
export function typedError(...codes: ErrorCode[]): (e: unknown) => boolean {
  return (e) => e instanceof VouchError && (codes.length === 0 || codes.includes(e.code));
}

export type FailureKind = 'untyped-error' | 'bad-message' | 'timeout' | 'memory' | 'hang' | 'out-of-memory';

/** What the property throws for a bad case; fast-check keeps it as errorInstance. */
export class FuzzCaseFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly original?: unknown,
  ) {
    super(message);
    this.name = 'FuzzCaseFailure';
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_CASE_MEMORY = 64 * 1024 * 1024;

function describeError(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  return `non-Error thrown: ${String(e)}`;
}

/** Runs one case and throws FuzzCaseFailure when it ends in anything but a result or an expected error. */
export async function checkCase<T>(target: FuzzTarget<T>, input: T, timeoutMs = target.timeoutMs ?? DEFAULT_TIMEOUT_MS): Promise<void> {
  const expected = target.isExpectedError ?? typedError();
  const maxMem = target.maxCaseMemoryBytes ?? DEFAULT_MAX_CASE_MEMORY;
  const rssBefore = process.memoryUsage.rss();
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = target.run(input);
    if (r instanceof Promise) {
      await Promise.race([
        r,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new FuzzCaseFailure('timeout', `case did not finish within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    }
  } catch (e) {
    if (e instanceof FuzzCaseFailure) throw e;
    if (!expected(e)) throw new FuzzCaseFailure('untyped-error', `unexpected error: ${describeError(e)}`, e);
    const msg = (e as Error).message;
    if (typeof msg !== 'string' || msg.trim() === '' || /[\r\n]/.test(msg)) {
      throw new FuzzCaseFailure('bad-message', `typed error without a one-line message: ${JSON.stringify(msg)}`, e);
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
  // A synchronous case cannot be interrupted here; one that ran past the bound still fails.
  const took = performance.now() - started;
  if (took > timeoutMs) throw new FuzzCaseFailure('timeout', `case took ${Math.round(took)} ms (bound ${timeoutMs} ms)`);
  const grew = process.memoryUsage.rss() - rssBefore;
  if (grew > maxMem) throw new FuzzCaseFailure('memory', `case grew resident memory by ${Math.round(grew / 2 ** 20)} MiB (bound ${Math.round(maxMem / 2 ** 20)} MiB)`);
}

export interface RunOptions {
  /** Stop after this many cases (default target.ciRuns unless seconds is given). */
  numRuns?: number;
  /** Run for this long instead (cases stop being generated after it; shrinking a failure continues). */
  seconds?: number;
  seed?: number;
  /** Replay one case (from a failure report) with its seed. */
  path?: string;
  timeoutMs?: number;
  /** Called before every case with the count of cases started (the worker's watchdog reads it). */
  onCase?: (n: number) => void;
  /** Called once, when the first case fails (before shrinking, which may itself hang). */
  onFirstFailure?: (f: { path: string; input: string; message: string; kind: FailureKind }) => void;
}

export interface FuzzFailureReport {
  kind: FailureKind;
  seed: number;
  path: string;
  /** The minimised input, printed. */
  input: string;
  message: string;
  /** Set when shrinking itself was cut short. */
  shrinkIncomplete?: boolean;
  /** Set when the input was regenerated from seed and path (a hang, a dead worker): not shrunk. */
  regenerated?: boolean;
}

export interface FuzzRunReport {
  name: string;
  cases: number;
  ms: number;
  casesPerSecond: number;
  seed: number;
  failure?: FuzzFailureReport;
}

export function showInput<T>(target: FuzzTarget<T>, input: T): string {
  if (target.show) return target.show(input);
  return fc.stringify(input);
}

/** Runs a target and reports cases, speed and the minimised failure if any (never throws for a bad case). */
export async function runTarget<T>(target: FuzzTarget<T>, opts: RunOptions = {}): Promise<FuzzRunReport> {
  const seed = opts.seed ?? (Date.now() ^ (Math.random() * 0x100000000)) | 0;
  let cases = 0;
  let failed = false;
  const property = fc.asyncProperty(target.arbitrary, async (input) => {
    cases++;
    opts.onCase?.(cases);
    try {
      await checkCase(target, input, opts.timeoutMs);
    } catch (e) {
      if (!failed && opts.onFirstFailure) {
        const f = e instanceof FuzzCaseFailure ? e : new FuzzCaseFailure('untyped-error', String(e));
        // Generation phase: the n-th case is path n-1 (after the replayed prefix, when replaying).
        opts.onFirstFailure({ path: opts.path ?? String(cases - 1), input: showInput(target, input), message: f.message, kind: f.kind });
      }
      failed = true;
      throw e;
    }
  });
  const started = performance.now();
  const params: fc.Parameters<[T]> = { seed, numRuns: opts.numRuns ?? (opts.seconds ? Number.MAX_SAFE_INTEGER : target.ciRuns) };
  if (opts.path !== undefined) params.path = opts.path;
  if (opts.seconds !== undefined) params.plugins = [fc.interruptAfterTimeLimit(opts.seconds * 1000) as fc.Plugin<[T]>];
  let details = await fc.check(property, params);
  const ms = performance.now() - started;
  const generated = details.numRuns;
  let shrinkIncomplete = false;
  if (details.failed && details.interrupted && details.counterexamplePath) {
    // The time budget ran out while shrinking: carry on from the best counterexample without a limit.
    const again = await fc.check(property, { seed, path: details.counterexamplePath, numRuns: 1 });
    if (again.failed) details = again;
    else shrinkIncomplete = true;
  }
  const report: FuzzRunReport = { name: target.name, cases: generated, ms, casesPerSecond: generated / (ms / 1000), seed };
  if (details.failed && details.counterexample) {
    const err = details.errorInstance;
    report.failure = {
      kind: err instanceof FuzzCaseFailure ? err.kind : 'untyped-error',
      seed,
      path: details.counterexamplePath ?? '',
      input: showInput(target, details.counterexample[0]),
      message: err instanceof Error ? err.message : String(err),
      ...(shrinkIncomplete ? { shrinkIncomplete } : {}),
    };
  }
  return report;
}

/** Regenerates the input of one case from its seed and path (for a hang or an out-of-memory the worker could not report). */
export function replayInput<T>(target: FuzzTarget<T>, seed: number, path: string): T | undefined {
  let captured: T | undefined;
  fc.check(
    fc.property(target.arbitrary, (x) => {
      captured = x;
      return false;
    }),
    { seed, path, numRuns: 1, endOnFailure: true },
  );
  return captured;
}

/**
 * Why a replay path names no case of this target for this seed (fast-check cannot walk
 * it: mistyped, cut short, or from another seed or target), or undefined when it does.
 * Checked before a replay so that a usage mistake is not reported as the parser's failure.
 */
export function replayPathProblem<T>(target: FuzzTarget<T>, seed: number, path: string): string | undefined {
  try {
    replayInput(target, seed, path);
    return undefined;
  } catch (e) {
    if (e instanceof Error && /Unable to replay/.test(e.message)) {
      return `--path ${path} names no case of ${target.name} with seed ${seed} (copy --seed and --path whole from the failure report)`;
    }
    throw e;
  }
}

/** Inputs longer than this are written to a file and shown cut short. */
const SHOWN_INPUT_CHARS = 3000;

export function formatFailure(name: string, f: FuzzFailureReport): string {
  let shown = f.input;
  if (shown.length > SHOWN_INPUT_CHARS) {
    const file = join(tmpdir(), `vouch-fuzz-${name}-${f.seed}.txt`);
    writeFileSync(file, f.input + '\n');
    shown = `${shown.slice(0, SHOWN_INPUT_CHARS)}… (${f.input.length} characters; all of it in ${file})`;
  }
  return [
    `fuzz ${name}: ${f.kind}: ${f.message}`,
    `  seed ${f.seed}, path ${f.path}${f.shrinkIncomplete ? ' (shrinking incomplete)' : ''}`,
    `  replay: npm run fuzz -- --parser ${name} --seed ${f.seed} --path ${f.path}`,
    `  ${f.regenerated ? 'input (regenerated from seed and path, not minimised)' : 'minimised input'}: ${shown}`,
  ].join('\n');
}

/**
 * Registers the suite test for a target: ciRuns cases with a fresh seed (fixed under CI=true;
 * FUZZ_SEED pins it), failing with the seed, path and minimised input.
 */
export function fuzzTest(target: AnyTarget): void {
  test(`fuzz ${target.name}: ${target.ciRuns} cases end in a result or a typed error`, async () => {
    // Under CI a fixed seed per target: a red CI must be reproducible and never depend on luck;
    // elsewhere a fresh seed each run explores new cases (`npm run fuzz` explores far more).
    const fixed = process.env.CI === 'true' ? [...target.name].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 7) : undefined;
    const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : fixed;
    const r = await runTarget(target, seed === undefined ? {} : { seed });
    if (r.failure) throw new Error(formatFailure(target.name, r.failure));
    if (r.cases !== target.ciRuns) throw new Error(`fuzz ${target.name}: ran ${r.cases} of ${target.ciRuns} cases`);
  });
}

/** Hex for byte inputs, so a printed failure can be pasted back as Buffer.from(hex, 'hex'). */
export function showBytes(b: Uint8Array): string {
  return b.length <= 4096 ? `hex:${Buffer.from(b).toString('hex')}` : `${b.length} bytes (hex of first 4096: ${Buffer.from(b.subarray(0, 4096)).toString('hex')})`;
}
