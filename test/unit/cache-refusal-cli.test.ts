/**
 * Issue 12: a cache entry refused as corrupt (flipped byte, truncation, a
 * symlink) was rebuilt silently. The CLI now says so in one line on stderr,
 * once per entry, never in the --json document; the command still succeeds
 * and the entry is written again, whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentCache } from '../../src/core/cache/cache.js';
import { ANALYZER_VERSION } from '../../src/core/layers/image-analysis.js';
import { INVENTORY_NS } from '../../src/core/packages/catalog/index.js';
import { readWholeCacheEntry } from '../helpers/cache-entry.js';
import { runCli } from '../helpers/inspect.js';
import { writeLayersLayout } from '../helpers/layer-layout.js';
import { tar } from '../helpers/tar-writer.js';

async function image(t: { after: (f: () => Promise<void>) => void }): Promise<{ ref: string; digest: string; cache: ContentCache }> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-cache-refusal-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  process.env.VOUCH_CACHE_DIR = join(dir, 'cache');
  const l = await writeLayersLayout(join(dir, 'layout'), [
    tar([{ name: 'lib/apk/db/installed', data: 'P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\n\n' }, { name: 'bin/tool', data: 'x'.repeat(2000), mode: 0o755 }]),
  ]);
  return { ref: l.ref, digest: l.manifestDigest, cache: new ContentCache(join(dir, 'cache')) };
}

const withoutCacheReport = (doc: Record<string, unknown>): Record<string, unknown> => {
  const { cache: _c, analysedAt: _a, ...rest } = doc;
  return rest;
};

test('inspect: a flipped byte in the cached analysis is one line on stderr; the command succeeds and the entry is rewritten', async (t) => {
  const { ref, digest, cache } = await image(t);
  const cold = await runCli(['inspect', ref, '--json']);
  assert.equal(cold.code, 0, cold.stderr);
  assert.equal(cold.stderr, '');
  const ns = `analysis/v${ANALYZER_VERSION}`;
  const path = cache.pathFor(ns, digest);
  const bytes = await readFile(path);
  bytes[bytes.length - 10]! ^= 0x01;
  await writeFile(path, bytes);

  const warm = await runCli(['inspect', ref, '--json']);
  assert.equal(warm.code, 0, warm.stderr);
  const lines = warm.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, warm.stderr);
  assert.match(lines[0]!, new RegExp(`^vouch: cache entry ${ns} ${digest} was corrupt \\(content does not match its checksum \\(sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}\\)\\); removed, rebuilt from the source$`));
  // The document is the same analysis, and does not carry the line.
  assert.deepEqual(withoutCacheReport(JSON.parse(warm.stdout)), withoutCacheReport(JSON.parse(cold.stdout)));
  assert.doesNotMatch(warm.stdout, /cache entry/);
  // Rewritten whole, and the next run says nothing.
  const again = readWholeCacheEntry(path) as { digest: string };
  assert.equal(again.digest, digest);
  const third = await runCli(['inspect', ref, '--json']);
  assert.equal(third.code, 0);
  assert.equal(third.stderr, '');
});

test('sbom: a truncated inventory entry and a symlink in its place are each said once; the CycloneDX document is unchanged', async (t) => {
  const { ref, digest, cache } = await image(t);
  const cold = await runCli(['sbom', ref, '--json']);
  assert.equal(cold.code, 0, cold.stderr);
  const path = cache.pathFor(INVENTORY_NS, digest);
  await truncate(path, (await readFile(path)).length - 5);
  const warm = await runCli(['sbom', ref, '--json']);
  assert.equal(warm.code, 0, warm.stderr);
  assert.match(warm.stderr, new RegExp(`^vouch: cache entry ${INVENTORY_NS} ${digest} was corrupt \\(is \\d+ bytes, its header says \\d+ \\(truncated or extended\\)\\); removed, rebuilt from the source\\n$`));
  assert.deepEqual(JSON.parse(warm.stdout).packages, JSON.parse(cold.stdout).packages);
  readWholeCacheEntry(path);

  const { symlink } = await import('node:fs/promises');
  await rm(path);
  await symlink('/etc/hostname', path);
  const linked = await runCli(['sbom', ref, '--format', 'cyclonedx-json']);
  assert.equal(linked.code, 0, linked.stderr);
  assert.equal(linked.stderr, `vouch: cache entry ${INVENTORY_NS} ${digest} was corrupt (is a symbolic link); removed, rebuilt from the source\n`);
  assert.equal(JSON.parse(linked.stdout).components.length, 1);
  readWholeCacheEntry(path);
});
