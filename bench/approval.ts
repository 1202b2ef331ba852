/**
 * Approval speed:
 *   - verify throughput: 1000 key-signed approval bundles read (strict parse,
 *     schema) and verified for an image in one process — target ≥ 500/s;
 *   - one `vouch verify` process, wall (median of 5) — target ≤ 0.5 s;
 *   - `vouch session init` on a cached image (the demo image, analysed once
 *     before), wall (median of 3) — target ≤ 1 s.
 * Run alone (`node dist/bench/approval.js`) it merges {"approval": …} into
 * bench/results.json; bench/run.ts runs it with the other sections.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApprovalKey } from '../src/core/approval/key.js';
import { signApprovalStatement } from '../src/core/approval/sign.js';
import { buildApprovalStatement } from '../src/core/approval/statement.js';
import { parseApproval, verifyApprovalsForImage } from '../src/core/approval/verify.js';
import { ensureDemoImage } from '../src/core/demo/demo-image.js';
import { parseTrustFile } from '../src/core/trust/trust-file.js';
import type { ReviewSession } from '../src/core/review/types.js';
import { repoRoot } from './generate.js';

export const APPROVAL_TARGETS = { verifyPerSecond: 500, verifyProcessSeconds: 0.5, sessionInitCachedSeconds: 1 };

export interface ApprovalBench {
  approvals: number;
  verifyPerSecond: number;
  verifyPerCpuSecond: number;
  loadAverage: number;
  verifyProcessSeconds: number;
  sessionInitCachedSeconds: number;
  targets: typeof APPROVAL_TARGETS;
  verdicts: Record<string, 'PASS' | 'FAIL'>;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function wall(cmd: string[], env: NodeJS.ProcessEnv, expect: number[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0]!, cmd.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!expect.includes(r.status ?? -1)) throw new Error(`bench approval: ${cmd.slice(1).join(' ')} exited ${r.status}: ${r.stderr}`);
  return s;
}

export async function benchApproval(): Promise<ApprovalBench> {
  const root = repoRoot();
  const cli = process.env.VOUCH_BENCH_CLI ?? join(root, 'dist', 'src', 'cli', 'main.js');
  const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-approval-'));
  try {
    const env = { VOUCH_CACHE_DIR: join(dir, 'cache'), VOUCH_KEY_PASSWORD: 'bench passphrase' };
    // A real session on the demo image (cold once, so that the measured init is the cached one).
    const demo = await ensureDemoImage(env.VOUCH_CACHE_DIR);
    const key = await generateApprovalKey(join(dir, 'alice'), 'bench passphrase');
    await writeFile(join(dir, 'vouch.trust.yaml'), 'reviewers:\n  - {name: alice, key: ./alice.pub}\n');
    await writeFile(join(dir, 'vouch.release.yaml'), `name: demo\nversion: 1.0.0\nimages:\n  app: ${demo.reference}\ntrust: ./vouch.trust.yaml\n`);
    const init = (out: string) => [process.execPath, cli, 'session', 'init', '--release', join(dir, 'vouch.release.yaml'), '--out', join(dir, out), '--json'];
    wall(init('warm.review.json'), env, [0]);
    const inits = [1, 2, 3].map((i) => wall(init(`s${i}.review.json`), env, [0]));
    const session = JSON.parse(await readFile(join(dir, 'warm.review.json'), 'utf8')) as ReviewSession;
    const image = { name: session.images[0]!.name, digest: session.images[0]!.digest };

    // 1000 approvals (distinct statements), written as files, read and verified in one process.
    const N = 1000;
    const files: Array<{ path: string; bytes: Buffer }> = [];
    for (let i = 0; i < N; i++) {
      const st = buildApprovalStatement(session, 'rejected', `bench ${i}`, { name: 'alice', identity: `key ${key.keyId}` }, { signers: [] });
      const bundle = await signApprovalStatement(st, { kind: 'key', keyPath: key.privatePath, passphrase: 'bench passphrase' });
      const bytes = Buffer.from(JSON.stringify(bundle));
      files.push({ path: join(dir, `a${i}.sigstore.json`), bytes });
    }
    await Promise.all(files.slice(0, 1).map((f) => writeFile(f.path, f.bytes)));
    const trust = await parseTrustFile('reviewers:\n  - {name: alice, key: ./alice.pub}\nrequire:\n  decisions: [rejected]\n', join(dir, 'vouch.trust.yaml'));
    // Warm-up (module init, trust material), then measure.
    await verifyApprovalsForImage([parseApproval(files[0]!.bytes, files[0]!.path)], image, trust);
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    let ok = 0;
    for (const f of files) if ((await verifyApprovalsForImage([parseApproval(f.bytes, f.path)], image, trust)).ok) ok++;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    if (ok !== N) throw new Error(`bench approval: ${ok} of ${N} verified`);

    // One process, as CI runs it.
    await writeFile(join(dir, 'vouch.trust.yaml'), 'reviewers:\n  - {name: alice, key: ./alice.pub}\nrequire:\n  decisions: [rejected]\n');
    const verify = [process.execPath, cli, 'verify', files[0]!.path, '--image', `${image.name}@${image.digest}`, '--trust', join(dir, 'vouch.trust.yaml'), '--json'];
    wall(verify, env, [0]);
    const verifies = [1, 2, 3, 4, 5].map(() => wall(verify, env, [0]));

    const r = {
      approvals: N,
      verifyPerSecond: Math.round(N / seconds),
      // CPU time too: on a shared, loaded machine the wall figure mostly measures the wait for a core.
      verifyPerCpuSecond: Math.round(N / cpuSeconds),
      loadAverage: Number(loadavg()[0]!.toFixed(2)),
      verifyProcessSeconds: Number(median(verifies).toFixed(3)),
      sessionInitCachedSeconds: Number(median(inits).toFixed(3)),
    };
    return {
      ...r,
      targets: APPROVAL_TARGETS,
      verdicts: {
        'verify throughput': r.verifyPerSecond >= APPROVAL_TARGETS.verifyPerSecond ? 'PASS' : 'FAIL',
        'one vouch verify process': r.verifyProcessSeconds <= APPROVAL_TARGETS.verifyProcessSeconds ? 'PASS' : 'FAIL',
        'session init (cached image)': r.sessionInitCachedSeconds <= APPROVAL_TARGETS.sessionInitCachedSeconds ? 'PASS' : 'FAIL',
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function mergeResults(section: ApprovalBench): Promise<void> {
  const file = join(repoRoot(), 'bench', 'results.json');
  let existing: Record<string, unknown> = {};
  try {
    existing = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    /* absent: start afresh */
  }
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify({ ...existing, approval: { ...section, node: process.version } }, null, 2)}\n`);
  await rename(tmp, file);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  benchApproval().then(
    async (r) => {
      console.log(JSON.stringify(r, null, 2));
      await mergeResults(r);
      process.exitCode = Object.values(r.verdicts).includes('FAIL') ? 1 : 0;
    },
    (e: unknown) => {
      console.error(`bench approval: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = 2;
    },
  );
}
