/**
 * `npm run bench`: speed and memory of `vouch inspect` on a ~1 GiB, 8-layer,
 * ~100k-file image (generated once by bench/generate.ts and cached).
 *
 * Measures in one run:
 *   (a) floor  — node reading each layer blob once, sequentially, with
 *                sha256(blob) + gunzip + sha256(tar): the least a verifying
 *                reader has to do;
 *   (b) vouch  — `vouch inspect --no-cache --json oci:DIR:bench` as a child
 *                process: wall time and peak RSS;
 *   (c) peer   — `umoci unpack --rootless` of the same image into a temp dir
 *                (skipped with a note when umoci is not installed);
 *   (d) cached — `vouch inspect --json` again after a warm-up run.
 * Targets: b/a ≤ 1.5, c/b ≥ 3, peak RSS(b) ≤ 300 MB, d ≤ 0.5 s.
 *
 * Flags: --no-peer skips (c). VOUCH_BENCH_CLI=path measures another CLI build.
 *
 * Prints a table and merges `{"inspect": {...}}` into bench/results.json
 * (atomically). Exit status: 1 when a measured target fails, else 0.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { createGunzip } from 'node:zlib';
import type { ImageIndex, ImageManifest } from '../src/core/oci/types.js';
import { describeBenchImage, ensureBenchImage, repoRoot, type BenchImage } from './generate.js';

const TARGETS = { ratio: 1.5, peerSpeedup: 3, peakRssMB: 300, cachedSeconds: 0.5 };

interface InspectResults {
  floorSeconds: number | null;
  vouchSeconds: number | null;
  ratio: number | null;
  peerSeconds: number | null;
  peakRssMB: number | null;
  cachedSeconds: number | null;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function which(cmd: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (d && existsSync(join(d, cmd))) return join(d, cmd);
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// (a) the floor

class HashTap extends Transform {
  readonly hash = createHash('sha256');
  constructor() {
    super({ highWaterMark: 1 << 20 });
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

async function readManifest(img: BenchImage): Promise<ImageManifest> {
  const index = JSON.parse(await readFile(join(img.dir, 'index.json'), 'utf8')) as ImageIndex;
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === img.tag);
  if (!desc) throw new Error(`bench image: no manifest tagged ${img.tag}`);
  return JSON.parse(await readFile(join(img.dir, 'blobs', 'sha256', desc.digest.slice(7)), 'utf8')) as ImageManifest;
}

/** Read every blob once without timing it, so that all measurements start from a warm page cache. */
async function prewarm(img: BenchImage, manifest: ImageManifest): Promise<void> {
  for (const l of manifest.layers) {
    await pipeline(createReadStream(join(img.dir, 'blobs', 'sha256', l.digest.slice(7)), { highWaterMark: 1 << 20 }), new Writable({ write: (_c, _e, cb) => cb() }));
  }
}

async function measureFloor(img: BenchImage, manifest: ImageManifest, diffIds: string[]): Promise<number> {
  const t0 = performance.now();
  for (const [i, l] of manifest.layers.entries()) {
    const blobTap = new HashTap();
    const tarHash = createHash('sha256');
    await pipeline(
      createReadStream(join(img.dir, 'blobs', 'sha256', l.digest.slice(7)), { highWaterMark: 1 << 20 }),
      blobTap,
      createGunzip(),
      new Writable({
        highWaterMark: 1 << 20,
        write(chunk: Buffer, _e, cb) {
          tarHash.update(chunk);
          cb();
        },
      }),
    );
    const digest = `sha256:${blobTap.hash.digest('hex')}`;
    const diffId = `sha256:${tarHash.digest('hex')}`;
    if (digest !== l.digest) throw new Error(`floor: layer ${i} digest ${digest} != ${l.digest}`);
    if (diffId !== diffIds[i]) throw new Error(`floor: layer ${i} diffId ${diffId} != ${diffIds[i]}`);
  }
  return (performance.now() - t0) / 1000;
}

// ---------------------------------------------------------------------------
// Child processes: wall time, peak RSS, output

interface ChildRun {
  seconds: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** Peak RSS in MB (maxrss KiB / 1024, as `ps` and `time` users read it). */
  peakRssMB: number | null;
}

const RSS_HOOK = `import { writeFileSync } from 'node:fs';
const out = process.env.VOUCH_BENCH_RSS_FILE;
if (out) process.on('exit', () => {
  try { writeFileSync(out, JSON.stringify({ maxRssKB: process.resourceUsage().maxRSS })); } catch {}
});
`;

/**
 * Run `node ARGS` with a preloaded hook that writes process.resourceUsage().maxRSS
 * at exit (worker threads included: it is the process's high-water mark), and
 * under /usr/bin/time -f %M when present as a second opinion that survives a
 * crash. The peak is the larger of the two.
 */
async function runNode(args: string[], env: NodeJS.ProcessEnv, workDir: string, tag: string): Promise<ChildRun> {
  const hook = join(workDir, 'rss-hook.mjs');
  if (!existsSync(hook)) await writeFile(hook, RSS_HOOK);
  const rssFile = join(workDir, `rss-${tag}.json`);
  const timeFile = join(workDir, `time-${tag}.txt`);
  await rm(rssFile, { force: true });
  await rm(timeFile, { force: true });
  const nodeArgs = ['--import', pathToFileURL(hook).href, ...args];
  const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const [cmd, argv] = gnuTime ? [gnuTime, ['-f', '%M', '-o', timeFile, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const t0 = performance.now();
  const child = spawn(cmd, argv, { env: { ...env, VOUCH_BENCH_RSS_FILE: rssFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res, rej) => {
    child.on('error', rej);
    child.on('close', (c, s) => res([c, s]));
  });
  const seconds = (performance.now() - t0) / 1000;
  const kbs: number[] = [];
  try {
    kbs.push((JSON.parse(await readFile(rssFile, 'utf8')) as { maxRssKB: number }).maxRssKB);
  } catch {
    /* the hook did not run (crash, signal) */
  }
  try {
    const last = (await readFile(timeFile, 'utf8')).trim().split('\n').pop() ?? '';
    if (/^\d+$/.test(last)) kbs.push(Number(last));
  } catch {
    /* no /usr/bin/time */
  }
  return {
    seconds,
    code,
    signal,
    stdout: Buffer.concat(out),
    stderr: Buffer.concat(err).toString('utf8'),
    peakRssMB: kbs.length > 0 ? Math.max(...kbs) / 1024 : null,
  };
}

function checkInspectOutput(run: ChildRun, img: BenchImage): string | undefined {
  if (run.code !== 0) {
    const tail = run.stderr.trim().split('\n').slice(-3).join(' | ');
    return `exit ${run.code ?? run.signal}: ${tail.slice(0, 300)}`;
  }
  let j: { digest?: string; layers?: unknown[] };
  try {
    j = JSON.parse(run.stdout.toString('utf8')) as typeof j;
  } catch {
    return `stdout is not one JSON object (${run.stdout.length} bytes)`;
  }
  if (j.digest !== img.manifestDigest) return `digest ${String(j.digest)} != ${img.manifestDigest}`;
  if (!Array.isArray(j.layers) || j.layers.length !== img.layers.length) return `expected ${img.layers.length} layers`;
  return undefined;
}

// ---------------------------------------------------------------------------
// (c) the peer

async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    // umoci --rootless may leave directories without write permission: open them up and retry.
    const open = async (d: string): Promise<void> => {
      await chmod(d, 0o700).catch(() => {});
      for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await open(join(d, e.name));
    };
    await open(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureUmoci(umoci: string, img: BenchImage, workDir: string): Promise<{ seconds: number } | { error: string }> {
  const bundle = join(workDir, 'umoci-bundle');
  const t0 = performance.now();
  const child = spawn(umoci, ['unpack', '--rootless', '--image', `${img.dir}:${img.tag}`, bundle], { stdio: ['ignore', 'ignore', 'pipe'] });
  const err: Buffer[] = [];
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const code = await new Promise<number | null>((res, rej) => {
    child.on('error', rej);
    child.on('close', (c) => res(c));
  });
  const seconds = (performance.now() - t0) / 1000;
  await removeTree(bundle);
  if (code !== 0) return { error: `umoci exited ${code}: ${Buffer.concat(err).toString('utf8').trim().split('\n').pop()?.slice(0, 300) ?? ''}` };
  return { seconds };
}

// ---------------------------------------------------------------------------

async function writeResults(file: string, sections: Record<string, unknown>): Promise<void> {
  let existing: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) existing = parsed as Record<string, unknown>;
  } catch {
    /* absent or unreadable: start afresh */
  }
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify({ ...existing, ...sections }, null, 2) + '\n');
  await rename(tmp, file);
}

function fmt(n: number | null, unit: string, digits = 2): string {
  return n === null ? '—' : `${n.toFixed(digits)} ${unit}`;
}

async function main(): Promise<number> {
  const root = repoRoot();
  const img = await ensureBenchImage({ log });
  log(describeBenchImage(img));
  const manifest = await readManifest(img);
  const config = JSON.parse(await readFile(join(img.dir, 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8')) as { rootfs: { diff_ids: string[] } };
  const notes: string[] = [];
  const workDir = await mkdtemp(join(tmpdir(), 'vouch-bench-'));
  const cacheDir = join(workDir, 'cache');
  const env = { ...process.env, VOUCH_CACHE_DIR: cacheDir, NO_COLOR: '1' };
  const res: InspectResults = { floorSeconds: null, vouchSeconds: null, ratio: null, peerSeconds: null, peakRssMB: null, cachedSeconds: null };
  let outputProblem: string | undefined;
  const extra: { inspectWithoutCatalogersSeconds?: number } = {};
  try {
    log('warming the page cache …');
    await prewarm(img, manifest);

    log('(a) floor: sha256 + gunzip + sha256, layer by layer …');
    res.floorSeconds = await measureFloor(img, manifest, config.rootfs.diff_ids);

    // VOUCH_BENCH_CLI: another build of the CLI to measure (default: this checkout's dist/).
    const cli = process.env.VOUCH_BENCH_CLI ?? join(root, 'dist', 'src', 'cli', 'main.js');
    if (!existsSync(cli)) {
      notes.push(`(b) and (d) not run: ${cli} does not exist (build with tsc first)`);
    } else {
      log('(b) vouch inspect --no-cache --json …');
      const b = await runNode([cli, 'inspect', '--no-cache', '--json', img.reference], env, workDir, 'nocache');
      outputProblem = checkInspectOutput(b, img);
      if (outputProblem) notes.push(`(b) vouch inspect failed: ${outputProblem}`);
      else {
        res.vouchSeconds = b.seconds;
        res.peakRssMB = b.peakRssMB;
        if (res.floorSeconds) res.ratio = b.seconds / res.floorSeconds;
        if (b.peakRssMB === null) notes.push('(b) peak RSS could not be read');
      }
      log('(e) vouch inspect --no-cache --json without catalogers …');
      const e = await runNode([cli, 'inspect', '--no-cache', '--json', img.reference], { ...env, VOUCH_BENCH_NO_CATALOGERS: '1' }, workDir, 'nocatalog');
      const eProblem = checkInspectOutput(e, img);
      if (eProblem) notes.push(`(e) inspect without catalogers failed: ${eProblem}`);
      else extra.inspectWithoutCatalogersSeconds = e.seconds;
      log('(d) vouch inspect --json, warm-up then timed …');
      const warm = await runNode([cli, 'inspect', '--json', img.reference], env, workDir, 'warm');
      const warmProblem = checkInspectOutput(warm, img);
      if (warmProblem) notes.push(`(d) warm-up run failed: ${warmProblem}`);
      else {
        const d = await runNode([cli, 'inspect', '--json', img.reference], env, workDir, 'cached');
        const dProblem = checkInspectOutput(d, img);
        if (dProblem) notes.push(`(d) cached run failed: ${dProblem}`);
        else res.cachedSeconds = d.seconds;
      }
    }

    const umoci = which('umoci');
    if (process.argv.includes('--no-peer')) notes.push('(c) skipped: --no-peer');
    else if (!umoci) notes.push('(c) skipped: umoci is not installed');
    else {
      log('(c) umoci unpack --rootless …');
      const c = await measureUmoci(umoci, img, workDir);
      if ('error' in c) notes.push(`(c) ${c.error}`);
      else res.peerSeconds = c.seconds;
    }
  } finally {
    await removeTree(workDir);
  }

  // The table.
  type Verdict = 'PASS' | 'FAIL' | 'SKIP';
  const verdict = (ok: boolean | undefined): Verdict => (ok === undefined ? 'SKIP' : ok ? 'PASS' : 'FAIL');
  const speedup = res.peerSeconds !== null && res.vouchSeconds !== null ? res.peerSeconds / res.vouchSeconds : null;
  const rows: [string, string, string, Verdict | ''][] = [
    ['(a) floor: sha256+gunzip+sha256', fmt(res.floorSeconds, 's'), '', ''],
    ['(b) vouch inspect --no-cache', fmt(res.vouchSeconds, 's'), '', outputProblem ? 'FAIL' : ''],
    ['    (b)/(a)', fmt(res.ratio, '×'), `≤ ${TARGETS.ratio}`, verdict(res.ratio === null ? undefined : res.ratio <= TARGETS.ratio)],
    ['(c) umoci unpack', fmt(res.peerSeconds, 's'), '', ''],
    ['    (c)/(b)', fmt(speedup, '×'), `≥ ${TARGETS.peerSpeedup}`, verdict(speedup === null ? undefined : speedup >= TARGETS.peerSpeedup)],
    ['    peak RSS of (b)', fmt(res.peakRssMB, 'MB', 0), `≤ ${TARGETS.peakRssMB} MB`, verdict(res.peakRssMB === null ? undefined : res.peakRssMB <= TARGETS.peakRssMB)],
    ['(d) vouch inspect (cached)', fmt(res.cachedSeconds, 's'), `≤ ${TARGETS.cachedSeconds} s`, verdict(res.cachedSeconds === null ? undefined : res.cachedSeconds <= TARGETS.cachedSeconds)],
  ];
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `${r[0]!.padEnd(w[0]!)}  ${r[1]!.padStart(w[1]!)}  ${r[2]!.padEnd(w[2]!)}  ${r[3]}`.trimEnd();
  console.log(line(['measure', 'value', 'target', 'result']));
  console.log(line(['-'.repeat(w[0]!), '-'.repeat(w[1]!), '-'.repeat(w[2]!), '------']));
  for (const r of rows) console.log(line(r));
  for (const n of notes) console.log(`note: ${n}`);

  const round = (n: number | null, d = 3): number | null => (n === null ? null : Number(n.toFixed(d)));
  const sections = await otherSections(res.vouchSeconds, extra.inspectWithoutCatalogersSeconds ?? null, notes);
  await writeResults(join(root, 'bench', 'results.json'), { ...sections, inspect: {
    floorSeconds: round(res.floorSeconds),
    vouchSeconds: round(res.vouchSeconds),
    ratio: round(res.ratio),
    peerSeconds: round(res.peerSeconds),
    peakRssMB: round(res.peakRssMB, 1),
    cachedSeconds: round(res.cachedSeconds),
    peerSpeedup: round(speedup),
    targets: TARGETS,
    verdicts: Object.fromEntries(rows.filter((r) => r[2] !== '').map((r) => [r[0].trim(), r[3]])),
    image: {
      reference: `oci:bench/.cache/gen-v${img.generatorVersion}/image:${img.tag}`,
      manifestDigest: img.manifestDigest,
      layers: img.layers.length,
      entries: img.entries,
      files: img.files,
      uncompressedBytes: img.uncompressedBytes,
      compressedBytes: img.compressedBytes,
      generationSeconds: round(img.generationSeconds, 1),
    },
    notes,
    node: process.version,
  } });
  console.log(`wrote ${join('bench', 'results.json')}`);
  const failed = rows.some((r) => r[3] === 'FAIL') || Object.values(sections).some((sec) => Object.values((sec as { verdicts?: Record<string, string> }).verdicts ?? {}).includes('FAIL'));
  return failed ? 1 : 0;
}

/**
 * The sections later issues added: cataloguing overhead, SBOM parsing, package
 * diffs, signature verification, checks. Each has its own target and verdict.
 */
async function otherSections(withCatalogers: number | null, withoutCatalogers: number | null, notes: string[]): Promise<Record<string, unknown>> {
  const r3 = (n: number): number => Number(n.toFixed(3));
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  const rows: string[][] = [];
  const out: Record<string, unknown> = {};

  const overhead = withCatalogers !== null && withoutCatalogers !== null ? (withCatalogers / withoutCatalogers - 1) * 100 : null;
  log('packages: SBOM parse (10k components), diff (10k packages) …');
  const { benchSbomParse } = await import('./packages-sbom.js');
  const { benchDiff } = await import('./packages-diff.js');
  const sbom = await benchSbomParse();
  const diff = await benchDiff();
  out.packages = {
    inspectWithoutCatalogersSeconds: withoutCatalogers === null ? null : r3(withoutCatalogers),
    catalogOverheadPercent: overhead === null ? null : Number(overhead.toFixed(1)),
    sbomParse10kSeconds: r3(sbom.seconds),
    sbomParse10kCpuSeconds: r3(sbom.cpuSeconds),
    diff10kSeconds: r3(diff.seconds),
    diff10kCpuSeconds: r3(diff.cpuSeconds),
    targets: { catalogOverheadPercent: 15, sbomParse10kSeconds: 1, diff10kSeconds: 0.5 },
    verdicts: {
      ...(overhead === null ? {} : { 'catalogue overhead': verdict(overhead <= 15) }),
      'SBOM parse 10k': verdict(sbom.seconds < 1),
      'diff 10k': verdict(diff.seconds < 0.5),
    },
  };
  rows.push(['cataloguing overhead on (b)', overhead === null ? '—' : `${overhead.toFixed(1)} %`, '≤ 15 %', overhead === null ? 'SKIP' : verdict(overhead <= 15)]);
  rows.push(['parse 10k-component CycloneDX', `${sbom.seconds.toFixed(2)} s`, '< 1 s', verdict(sbom.seconds < 1)]);
  rows.push(['diff 2 × 10k packages (cached)', `${diff.seconds.toFixed(2)} s`, '< 0.5 s', verdict(diff.seconds < 0.5)]);

  log('trust: 100 signatures and attestations …');
  const { benchTrust } = await import('./trust.js');
  const trust = await benchTrust();
  out.trust = { signatures: trust.signatures, seconds: r3(trust.seconds), targets: { seconds: 1 }, verdicts: { 'verify 100': verdict(trust.seconds <= 1) } };
  rows.push([`verify ${trust.signatures} signatures/attestations`, `${trust.seconds.toFixed(2)} s`, '≤ 1 s', verdict(trust.seconds <= 1)]);

  try {
    const { benchChecks } = await import('./checks.js');
    log('checks: every check on the bench image …');
    const c = await benchChecks();
    out.checks = { checks: c.checks, files: c.files, seconds: r3(c.seconds), targets: { seconds: 1 }, verdicts: { 'all checks': verdict(c.seconds <= 1) } };
    rows.push([`${c.checks} checks on ${c.files} files`, `${c.seconds.toFixed(2)} s`, '≤ 1 s', verdict(c.seconds <= 1)]);
  } catch (e) {
    notes.push(`checks not measured: ${e instanceof Error ? e.message : String(e)}`);
  }

  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log('');
  for (const r of rows) console.log(`${r[0]!.padEnd(w[0]!)}  ${r[1]!.padStart(w[1]!)}  ${r[2]!.padEnd(w[2]!)}  ${r[3]}`);
  return out;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 2;
  },
);
