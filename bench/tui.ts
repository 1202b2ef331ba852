/**
 * Workbench speed (issue 11): keypress → next frame on a big review, and the
 * first frames of the cached demo.
 *
 * - keypress: the App rendered in-process (ink-testing-library: React render,
 *   Yoga layout and the frame string; the terminal write is not included) over
 *   a generated model of 100,000 files in 8 layers and 10,000 packages (the
 *   bench image has 86k files but only 3,000 packages, so a generated model
 *   covers both sizes). Each keypress is timed from stdin to the next frame:
 *   cursor moves in the merged tree (j, PgDn), in the package list, and a
 *   collapse of a 12k-entry directory. Targets: median ≤ 16 ms, p99 ≤ 50 ms.
 * - the table: the same visible window of packages rendered by the project's
 *   Table and by @alcalzone/ink-table (fed only the visible rows).
 * - start-up: `vouch review --demo` in tmux (cached demo, bundle built), the
 *   time from process start to the first frame (progress screen) and to the
 *   first review frame (Overview). Target: first frame ≤ 700 ms.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageAnalysis } from '../src/core/layers/image-analysis.js';
import type { LayerEntry } from '../src/core/layers/types.js';
import type { Package } from '../src/core/packages/types.js';
import { imageModel } from '../src/tui/build.js';
import type { ReviewModel } from '../src/tui/model.js';

// React as the workbench ships it (the bundle defines NODE_ENV=production); React, Ink and the App
// are loaded after this, on first use.
process.env.NODE_ENV ??= 'production';
const ui = async () => {
  const [{ render }, { createElement: h }, { App }, { makeTheme }, { Table: OwnTable }, { InMemorySessionPort }] = await Promise.all([
    import('ink-testing-library'),
    import('react'),
    import('../src/tui/app.js'),
    import('../src/tui/components/text.js'),
    import('../src/tui/components/table.js'),
    import('../src/tui/session-port.js'),
  ]);
  return { render, h, App, makeTheme, OwnTable, InMemorySessionPort };
};

export interface TuiBench {
  model: { files: number; packages: number; generated: true };
  keypress: { count: number; medianMs: number; p99Ms: number; maxMs: number; byKey: Record<string, { medianMs: number; p99Ms: number }> };
  table: { rows: number; ownMs: number; inkTableMs: number };
  startup: { firstFrameMs: number | null; reviewFrameMs: number | null; runs: number; note?: string };
}

const D = (i: number): string => `sha256:${i.toString(16).padStart(64, '0')}`;

export function bigModelForBench(files: number, packages: number): ReviewModel {
  const layers = 8;
  const walks = Array.from({ length: layers }, (_, l) => ({ diffId: D(100 + l), entries: [] as LayerEntry[] }));
  for (let i = 0; i < files; i++) {
    const l = i % layers;
    walks[l]!.entries.push({ path: `/usr/share/d${i % 37}/s${i % 331}/f${i}.dat`, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 100 + (i % 5000), mtime: 0 });
  }
  const pkgs: Package[] = Array.from({ length: packages }, (_, i) => ({
    name: `pkg-${i.toString(36)}`,
    version: `1.${i % 50}.${i % 7}`,
    type: i % 3 === 0 ? 'deb' : 'npm',
    purl: `pkg:${i % 3 === 0 ? 'deb/debian' : 'npm'}/pkg-${i.toString(36)}@1.${i % 50}.${i % 7}`,
    licenses: ['MIT'],
    locations: [{ path: `/usr/lib/node_modules/pkg-${i}/package.json`, layer: D(100 + (i % layers)) }],
  }));
  const analysis = {
    analyzerVersion: 1,
    reference: 'oci:/bench:big',
    transport: 'oci',
    name: 'big',
    digest: D(1),
    synthesizedManifest: false,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    index: null,
    platform: { os: 'linux', architecture: 'amd64', variant: null },
    config: { digest: D(2), user: '', env: [], entrypoint: null, cmd: null, workingDir: '', exposedPorts: [], volumes: [], labels: {}, created: null, stopSignal: null, healthcheck: null },
    history: [],
    layers: walks.map((w, i) => ({ index: i, digest: D(200 + i), diffId: w.diffId, mediaType: 'x', size: 1, uncompressedSize: 1, createdBy: `RUN step ${i}`, created: null, entries: w.entries.length, added: w.entries.length, modified: 0, removed: 0, addedBytes: 0, sizeBytes: 1, warnings: [] })),
    files,
    totalBytes: 0,
    source: { repository: null, revision: null },
    traceability: { repository: null, revision: null, created: null, version: null, baseName: null, baseDigest: null, evidence: {}, conflicts: [] },
    warnings: [],
    efficiency: 1,
    sizeBytes: 0,
    userSizeBytes: 0,
    wastedBytes: 0,
    userWastedPercent: 0,
    inefficientFiles: [],
  } satisfies ImageAnalysis;
  const im = imageModel({ name: 'big', analysis, walks, inventory: { source: 'catalog', distro: null, packages: pkgs, warnings: [] }, attached: null, chain: null, signed: false, checks: [], diff: null, baselineLabel: null });
  return { release: { name: 'bench', version: '1' }, images: [im], policyDigest: D(3), failOn: 'high', trustSource: '(none)', warnings: [] };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const r1 = (n: number): number => Number(n.toFixed(1));

async function keypresses(model: ReviewModel): Promise<TuiBench['keypress']> {
  const { render, h, App, makeTheme, InMemorySessionPort } = await ui();
  const port = new InMemorySessionPort('bench', [], 'high');
  const r = render(h(App, { model, port, width: 120, height: 40, theme: makeTheme({}) }));
  // The next frame is the next write to the (test) stdout: hook it rather than poll.
  let onFrame: (() => void) | null = null;
  const out = r.stdout as unknown as { write(f: string): void };
  const write = out.write.bind(out);
  out.write = (f: string): void => {
    write(f);
    const k = onFrame;
    onFrame = null;
    k?.();
  };
  const frame = (): Promise<void> => new Promise((resolve) => (onFrame = resolve));
  const press = async (k: string): Promise<number> => {
    const t0 = performance.now();
    const f = frame();
    // A key that draws nothing would leave no pending work and end the process in silence.
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no frame within 10 s after key ${JSON.stringify(k)}`)), 10_000);
    });
    r.stdin.write(k);
    try {
      await Promise.race([f, stuck]);
    } finally {
      clearTimeout(timer);
    }
    return performance.now() - t0;
  };
  await new Promise((res) => setTimeout(res, 50));
  const all: number[] = [];
  const byKey: Record<string, number[]> = {};
  const run = async (label: string, k: string, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const ms = await press(k);
      (byKey[label] ??= []).push(ms);
      all.push(ms);
    }
  };
  // Layers: the merged tree of 100k files (built on the first visit, not timed as a keypress).
  let t = performance.now();
  const lap = (w: string): void => {
    if (process.env.VOUCH_BENCH_VERBOSE) process.stderr.write(`${w} ${Math.round(performance.now() - t)} ms\n`);
    t = performance.now();
  };
  await press('2');
  lap('layers screen (tree built)');
  await press('l');
  lap('l');
  await run('tree j', 'j', 100);
  lap('200 j');
  await run('tree PgDn', '\x1b[6~', 50);
  // Enter toggles only a directory (a file row draws nothing new): go to the top and down
  // to /usr/share, the directory every generated file lies under, whatever the model's size.
  await press('g');
  await press('j');
  if (process.env.VOUCH_BENCH_VERBOSE) process.stderr.write(`${r.lastFrame()?.split('\n').slice(0, 8).join('\n')}\n`);
  await run('tree collapse/expand (Enter on /usr/share)', '\r', 20);
  await press('3');
  await run('packages j', 'j', 100);
  await run('packages PgDn', '\x1b[6~', 50);
  r.unmount();
  return {
    count: all.length,
    medianMs: r1(pct(all, 50)),
    p99Ms: r1(pct(all, 99)),
    maxMs: r1(Math.max(...all)),
    byKey: Object.fromEntries(Object.entries(byKey).map(([k, v]) => [k, { medianMs: r1(pct(v, 50)), p99Ms: r1(pct(v, 99)) }])),
  };
}

async function tables(model: ReviewModel): Promise<TuiBench['table']> {
  const { render, h, OwnTable } = await ui();
  const { Table: InkTable } = await import('@alcalzone/ink-table');
  const pkgs = model.images[0]!.packages;
  const rows = 36;
  const time = async (el: (off: number) => ReturnType<typeof h>): Promise<number> => {
    const r = render(el(0));
    const t: number[] = [];
    for (let i = 1; i <= 60; i++) {
      const t0 = performance.now();
      r.rerender(el(i));
      t.push(performance.now() - t0);
    }
    r.unmount();
    return r1(pct(t, 50));
  };
  const ownMs = await time((off) =>
    h(OwnTable, {
      columns: [{ header: 'NAME' }, { header: 'VERSION', width: 12 }, { header: 'TYPE', width: 5 }, { header: 'LICENCE', width: 10 }],
      width: 120,
      height: rows + 1,
      count: pkgs.length,
      offset: off,
      cursor: off,
      row: (i: number) => ({ cells: [pkgs[i]!.name, pkgs[i]!.version, pkgs[i]!.type, pkgs[i]!.licenses] }),
    }),
  );
  const inkTableMs = await time((off) => h(InkTable as never, { data: pkgs.slice(off, off + rows).map((p) => ({ name: p.name, version: p.version, type: p.type, licence: p.licenses })) }));
  return { rows, ownMs, inkTableMs };
}

function startup(): TuiBench['startup'] {
  // From bench/ (tsx) the repository is one level up; from dist/bench/ (npm run bench) it is two.
  const up = fileURLToPath(new URL('..', import.meta.url));
  const root = existsSync(join(up, 'package.json')) ? up : join(up, '..');
  const cli = join(root, 'dist/src/cli/main.js');
  if (spawnSync('tmux', ['-V']).status !== 0) return { firstFrameMs: null, reviewFrameMs: null, runs: 0, note: 'tmux not installed' };
  if (!existsSync(join(root, 'dist/tui/run.js'))) return { firstFrameMs: null, reviewFrameMs: null, runs: 0, note: 'dist/tui/run.js not built (npm run build)' };
  const work = mkdtempSync(join(tmpdir(), 'vouch-bench-tui-'));
  const first: number[] = [];
  const review: number[] = [];
  try {
    execFileSync(process.execPath, [cli, 'config', 'set', 'reviewer.name', 'Bench'], { env: { ...process.env, VOUCH_CONFIG_DIR: work } });
    for (let i = 0; i < 4; i++) {
      const timing = join(work, `t${i}.json`);
      const s = `vouch-bench-${process.pid}`;
      spawnSync('tmux', ['kill-session', '-t', s]);
      const env = `VOUCH_CONFIG_DIR='${work}' VOUCH_TUI_TIMING='${timing}'${process.env.VOUCH_CACHE_DIR ? ` VOUCH_CACHE_DIR='${process.env.VOUCH_CACHE_DIR}'` : ''}`;
      execFileSync('tmux', ['new-session', '-d', '-s', s, '-x', '120', '-y', '40', `${env} '${process.execPath}' '${cli}' review --demo`]);
      const t0 = Date.now();
      let t: { firstFrameMs?: number; reviewFrameMs?: number } = {};
      while (Date.now() - t0 < 120_000 && t.reviewFrameMs === undefined) {
        spawnSync('sleep', ['0.2']);
        if (existsSync(timing)) t = JSON.parse(readFileSync(timing, 'utf8'));
      }
      spawnSync('tmux', ['send-keys', '-t', s, 'q']);
      spawnSync('sleep', ['0.5']);
      spawnSync('tmux', ['kill-session', '-t', s]);
      // The first run generates and caches the demo: not counted.
      if (i > 0 && t.firstFrameMs !== undefined && t.reviewFrameMs !== undefined) {
        first.push(t.firstFrameMs);
        review.push(t.reviewFrameMs);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { firstFrameMs: first.length ? pct(first, 50) : null, reviewFrameMs: review.length ? pct(review, 50) : null, runs: first.length };
}

export async function benchTui(opts: { files?: number; packages?: number } = {}): Promise<TuiBench> {
  const files = opts.files ?? 100_000;
  const packages = opts.packages ?? 10_000;
  const model = bigModelForBench(files, packages);
  const keypress = await keypresses(model);
  const table = await tables(model);
  return { model: { files, packages, generated: true }, keypress, table, startup: process.env.VOUCH_BENCH_SKIP_STARTUP ? { firstFrameMs: null, reviewFrameMs: null, runs: 0, note: 'skipped' } : startup() };
}

/** Keypress latency only, on a generated model of `files` files (the scaling section's 1M-file figure). */
export async function benchTuiKeypress(files: number, packages = 10_000): Promise<TuiBench['keypress']> {
  return keypresses(bigModelForBench(files, packages));
}

// `node --import tsx bench/tui.ts` runs this section alone.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  benchTui().then((r) => console.log(JSON.stringify(r, null, 2)));
}
