/**
 * `vouch diff` of two cached images with 10,000 packages each (target < 0.5 s).
 *
 * Builds two OCI layouts in a temp dir — 5,000 dpkg packages in
 * /var/lib/dpkg/status and 5,000 npm packages under /app/node_modules, with a
 * few hundred upgrades, downgrades, additions, removals and licence changes
 * between them — runs the diff once to fill a private cache, then times the
 * core call the CLI makes (`diffInputs`: resolve both references, cached
 * analysis, cached walks and catalogues, merge, package/config/layer/file diff)
 * in-process, median of 5 runs. Process start-up is not included.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ContentCache } from '../src/core/cache/cache.js';
import { diffInputs } from '../src/core/diff/index.js';
import { OciLayoutWriter } from '../src/core/oci/layout-writer.js';
import { TarWriter } from '../src/core/oci/tar-writer.js';

const DEB = 5000;
const NPM = 5000;

function layer(files: Array<[string, string]>): Buffer {
  const w = new TarWriter();
  for (const [path, text] of files) {
    const data = Buffer.from(text);
    w.add({ path, type: 'file', size: data.length }, data);
  }
  w.finish();
  return Buffer.concat(w.take());
}

/** Version i of package n on one side: a few hundred differ between base and target. */
function versions(side: 'base' | 'target'): { deb: Array<[string, string]>; npm: Array<[string, string, string]> } {
  const deb: Array<[string, string]> = [];
  const npm: Array<[string, string, string]> = [];
  for (let i = 0; i < DEB; i++) {
    let v = `1.${i % 50}.${i % 7}-${1 + (i % 3)}`;
    if (side === 'target' && i % 20 === 0) v = `1.${i % 50}.${(i % 7) + 1}-1`; // upgrades
    if (side === 'target' && i % 97 === 1) v = `1.${i % 50}.${i % 7}-1~bpo1`; // downgrades
    const name = side === 'target' && i % 200 === 3 ? `newpkg${i}` : `pkg${i}`; // added / removed
    deb.push([name, v]);
  }
  for (let i = 0; i < NPM; i++) {
    let v = `${i % 9}.${i % 13}.${i % 5}`;
    if (side === 'target' && i % 25 === 0) v = `${i % 9}.${(i % 13) + 1}.0`;
    const license = side === 'target' && i % 100 === 7 ? 'ISC' : 'MIT';
    npm.push([`mod${i}`, v, license]);
  }
  return { deb, npm };
}

export async function writeImage(dir: string, side: 'base' | 'target'): Promise<void> {
  const { deb, npm } = versions(side);
  const w = await OciLayoutWriter.create(dir);
  await w.addLayer(layer([['etc/os-release', 'ID=debian\nVERSION_ID="12"\n'], ['bin/sh', 'x'.repeat(4096)]]), { createdBy: 'ADD rootfs /' });
  const status = deb.map(([n, v]) => `Package: ${n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${v}\nDescription: ${n}\n`).join('\n');
  await w.addLayer(layer([['var/lib/dpkg/status', status]]), { createdBy: 'RUN apt-get install' });
  await w.addLayer(layer(npm.map(([n, v, l]) => [`app/node_modules/${n}/package.json`, JSON.stringify({ name: n, version: v, license: l })])), { createdBy: 'RUN npm ci' });
  await w.finish({ tags: ['bench'], created: '2024-01-01T00:00:00Z', config: { User: side === 'base' ? 'app' : 'root', Env: ['PATH=/usr/bin', `API_KEY=${side}`] } });
}

/** seconds: median wall time; cpuSeconds: median CPU time of the same runs (what the wall time would be on an idle machine, roughly). */
export async function benchDiff(): Promise<{ packages: number; seconds: number; cpuSeconds: number }> {
  const work = await mkdtemp(join(tmpdir(), 'vouch-bench-diff-'));
  try {
    const base = join(work, 'base');
    const target = join(work, 'target');
    await Promise.all([writeImage(base, 'base'), writeImage(target, 'target')]);
    const cache = new ContentCache(join(work, 'cache'));
    const refs = [`oci:${base}:bench`, `oci:${target}:bench`] as const;
    const warm = await diffInputs(refs[0], refs[1], { cache });
    const packages = Math.min(warm.base.inventory.packages.length, warm.target.inventory.packages.length);
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await diffInputs(refs[0], refs[1], { cache });
      const c = process.cpuUsage(c0);
      times.push((performance.now() - t0) / 1000);
      cpu.push((c.user + c.system) / 1e6);
    }
    times.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    return { packages, seconds: Number(times[2]!.toFixed(3)), cpuSeconds: Number(cpu[2]!.toFixed(3)) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// `node --import tsx bench/packages-diff.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  benchDiff().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
