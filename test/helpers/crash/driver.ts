/**
 * The driver side of the crash loop: bundles the children once (esbuild, so a
 * child starts in one module load), then for each iteration starts a child,
 * lets it work for a random time, SIGKILLs it, and runs the caller's check on
 * what is on disk (or in the registry) against every token any child has
 * acknowledged so far. The next child is spawned while the current one works,
 * so its start-up overlaps; it waits for `go` before touching anything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CrashKind = 'session' | 'cache' | 'approve' | 'attach';
const KINDS: CrashKind[] = ['session', 'cache', 'approve', 'attach'];

/** Bundle every child (shared code split into chunks); returns the script path per kind. */
export async function bundleChildren(): Promise<Record<CrashKind, string>> {
  // Inside the repo (.vouch-test/ is git-ignored) so that the bundle finds node_modules.
  const root = fileURLToPath(new URL('../../../.vouch-test/', import.meta.url));
  mkdirSync(root, { recursive: true });
  const outdir = mkdtempSync(join(root, 'crash-'));
  const { build } = await import('esbuild');
  await build({
    entryPoints: KINDS.map((k) => fileURLToPath(new URL(`./${k}.ts`, import.meta.url))),
    outdir,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    logLevel: 'error',
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: { js: "import { createRequire as __crashRequire } from 'node:module'; const require = __crashRequire(import.meta.url);" },
    // Loaded from node_modules (found from the bundle's folder inside the repo): dockerode (ssh2's native
    // add-ons) and @sigstore/tuf (vouch reads the seeds.json beside it).
    external: ['dockerode', '@sigstore/tuf'],
  });
  return Object.fromEntries(KINDS.map((k) => [k, join(outdir, `${k}.mjs`)])) as Record<CrashKind, string>;
}

/** A small seeded PRNG (mulberry32): a failing run is repeated with VOUCH_CRASH_SEED. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** utime + stime of a live process in ms (/proc/PID/stat fields 14 and 15, USER_HZ = 100). */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[14 - 3]) + Number(f[15 - 3])) * 10;
  } catch {
    return 0;
  }
}

interface Warm {
  child: ChildProcess;
  out: string;
  err: string;
  ready: Promise<void>;
  exited: Promise<void>;
  exitedEarly: boolean;
}

function start(script: string, args: string[], env: NodeJS.ProcessEnv): Warm {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const w: Warm = { child, out: '', err: '', exitedEarly: false, ready: Promise.resolve(), exited: Promise.resolve() };
  child.stderr!.on('data', (d: Buffer) => (w.err += d.toString()));
  w.exited = new Promise((r) => child.on('exit', () => r()));
  w.ready = new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      w.out += d.toString();
      if (w.out.startsWith('ready\n')) resolve();
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') w.exitedEarly = true;
      reject(new Error(`crash child ${script} exited (${code ?? signal}) before it was killed: ${w.err.trim()}`));
    });
  });
  w.ready.catch(() => {});
  return w;
}

export interface CrashLoopResult {
  iterations: number;
  /** CPU time the children used (user + system, ms), read from /proc just before each kill; 0 without /proc. */
  childCpuMs: number;
  /** Every token acknowledged, in order. */
  acked: string[];
}

/**
 * Kill `iterations` children of one kind at random moments and call
 * `check(acked, i)` after each kill. Even iterations kill uniformly within
 * [0, 1.5 × F) after `go`, F being how long children take to their first
 * acknowledgement: most of those land before anything was saved (opening,
 * locking, the first write). Odd iterations wait for the first
 * acknowledgement, then kill uniformly within [0, 1.5 × P), P being the time
 * between acknowledgements: those land in later operations, with saved work
 * to lose. F and P are measured as the children run (starting from
 * `firstAckMs`), so the moments fit the machine's speed and no child runs
 * much longer than it must (each start costs CPU).
 */
export async function crashLoop(opts: {
  script: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  iterations: number;
  firstAckMs: number;
  random: () => number;
  check: (acked: readonly string[], iteration: number) => Promise<void>;
}): Promise<CrashLoopResult> {
  const acked: string[] = [];
  const env = (i: number): NodeJS.ProcessEnv => ({ ...opts.env, VOUCH_CRASH_FIRST: String(i * 1_000_000) });
  let firstAckMs = opts.firstAckMs;
  let periodMs = opts.firstAckMs / 2;
  let childCpuMs = 0;
  let next = start(opts.script, opts.args, env(0));
  try {
    for (let i = 0; i < opts.iterations; i++) {
      const cur = next;
      await cur.ready;
      const go = performance.now();
      let firstAck = 0;
      let lastAck = 0;
      let acks = 0;
      let onFirst: () => void = () => {};
      const first = new Promise<void>((r) => (onFirst = r));
      cur.child.stdout!.on('data', () => {
        const now = performance.now();
        const n = (cur.out.match(/^ack .+\n/gm) ?? []).length;
        if (n === acks) return;
        if (!firstAck) firstAck = now - go;
        else periodMs = 0.8 * periodMs + 0.2 * ((now - lastAck) / (n - acks));
        acks = n;
        lastAck = now;
        onFirst();
      });
      cur.child.stdin!.write('go\n');
      if (i + 1 < opts.iterations) next = start(opts.script, opts.args, env(i + 1));
      let delay: number;
      if (i % 2 === 1) {
        await Promise.race([first, cur.exited]);
        delay = Math.floor(opts.random() * 1.5 * periodMs);
      } else delay = Math.floor(opts.random() * 1.5 * firstAckMs);
      await new Promise((r) => setTimeout(r, delay));
      childCpuMs += cpuMs(cur.child.pid!);
      cur.child.kill('SIGKILL');
      await cur.exited;
      if (cur.exitedEarly) throw new Error(`iteration ${i}: the child ended by itself: ${cur.err.trim()}`);
      // Killed before its first acknowledgement: it takes longer than `delay`, perhaps than the estimate.
      if (firstAck) firstAckMs = 0.7 * firstAckMs + 0.3 * firstAck;
      else firstAckMs = Math.max(firstAckMs, delay * 1.2);
      for (const m of cur.out.matchAll(/^ack (.+)\n/gm)) acked.push(m[1]!);
      await opts.check(acked, i);
    }
  } finally {
    // A failed check leaves the warm child waiting for `go`.
    if (next.child.exitCode === null && next.child.signalCode === null) {
      next.child.kill('SIGKILL');
      await next.exited;
    }
  }
  return { iterations: opts.iterations, childCpuMs, acked };
}
