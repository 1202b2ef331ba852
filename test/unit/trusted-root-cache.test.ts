/**
 * Issue 12: the trusted root `vouch chain --tuf-refresh` caches is a cache
 * entry like the others (header line with the sha256 and length of the
 * JSON). A flipped byte, a truncated file, or the file replaced by a symlink
 * (even to a well-formed entry) is refused with one line that names the file
 * and says to refresh again; vouch does not quietly fall back to the root it
 * ships, which would verify against other keys than the user chose.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { VouchError } from '../../src/core/errors.js';
import { cachedTrustedRootPath, resolveTrustedRoot } from '../../src/core/trust/chain.js';
import { storeCachedTrustedRoot } from '../../src/core/trust/cached-root.js';
import type { TrustFile } from '../../src/core/trust/trust-file.js';
import { readWholeCacheEntry } from '../helpers/cache-entry.js';
import { runCli } from '../helpers/inspect.js';

const STAGING = fileURLToPath(new URL('../fixtures/sigstore-python-trust/staging/trusted_root.json', import.meta.url));
const PROD = fileURLToPath(new URL('../fixtures/sigstore-python-trust/prod/trusted_root.json', import.meta.url));
const NO_TRUST: TrustFile = { path: '(no trust file)', signers: [], reviewers: [], require: {}, policy: { keys: [], identities: [] } } as unknown as TrustFile;
const work = mkdtempSync(join(tmpdir(), 'vouch-root-cache-'));
after(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
/** A cache with the staging root stored as --tuf-refresh stores it. */
async function cacheWithStaging(): Promise<{ dir: string; path: string }> {
  const dir = join(work, `cache-${n++}`);
  const path = cachedTrustedRootPath(dir);
  await storeCachedTrustedRoot(path, readFileSync(STAGING, 'utf8'));
  return { dir, path };
}

const tlogUrls = (dir: string): string[] => resolveTrustedRoot(NO_TRUST, dir).root.tlogs.map((t) => t.baseUrl);

/** Refused: a VouchError (exit 2) naming the file and the refresh, and the file is left for the user to see. */
function assertRefused(dir: string, path: string, reason: RegExp): void {
  assert.throws(
    () => resolveTrustedRoot(NO_TRUST, dir),
    (e: unknown) => {
      assert.ok(e instanceof VouchError, String(e));
      assert.equal(e.exitCode, 2);
      assert.equal(e.code, 'INVALID_TRUSTED_ROOT');
      assert.ok(e.message.includes(path), e.message);
      assert.match(e.message, /--tuf-refresh/);
      assert.match(e.message, reason);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    },
  );
}

describe('the trusted root cached by --tuf-refresh', () => {
  test('stored with the cache-entry header and read back (source says TUF)', async () => {
    const { dir, path } = await cacheWithStaging();
    assert.deepEqual(readWholeCacheEntry(path), JSON.parse(readFileSync(STAGING, 'utf8')));
    const r = resolveTrustedRoot(NO_TRUST, dir);
    assert.equal(r.source, `${path} (from TUF)`);
    assert.ok(r.root.tlogs.some((t) => t.baseUrl === 'https://rekor.sigstage.dev'));
  });

  test('one byte flipped (a log URL that still parses): refused, not used and not replaced by the shipped root', async () => {
    const { dir, path } = await cacheWithStaging();
    const bytes = readFileSync(path);
    const at = bytes.indexOf('rekor.sigstage.dev') + 'rekor.sigstag'.length;
    bytes[at] = bytes[at]! ^ 0x01; // "sigstage" → "sigstagd": valid JSON, a different log
    writeFileSync(path, bytes);
    assertRefused(dir, path, /checksum/);
  });

  test('truncated: refused', async () => {
    const { dir, path } = await cacheWithStaging();
    truncateSync(path, Math.floor(readFileSync(path).length / 2));
    assertRefused(dir, path, /truncated/);
  });

  test('replaced by a symlink, even to a well-formed entry of another root: refused', async () => {
    const { dir, path } = await cacheWithStaging();
    const elsewhere = join(work, `planted-${n++}.json`);
    await storeCachedTrustedRoot(elsewhere, readFileSync(PROD, 'utf8'));
    unlinkSync(path);
    symlinkSync(elsewhere, path);
    assertRefused(dir, path, /symbolic link/);
    // A refresh writes a new file in its place: the link goes, its target is untouched.
    const planted = readFileSync(elsewhere);
    await storeCachedTrustedRoot(path, readFileSync(STAGING, 'utf8'));
    assert.equal(lstatSync(path).isSymbolicLink(), false);
    assert.deepEqual(readFileSync(elsewhere), planted);
    assert.ok(tlogUrls(dir).includes('https://rekor.sigstage.dev'));
  });

  test('a plain JSON file (no header, as an older vouch wrote it): refused with the same advice', async () => {
    const { dir, path } = await cacheWithStaging();
    writeFileSync(path, readFileSync(STAGING));
    assertRefused(dir, path, /header/);
  });

  test('vouch chain: exit 2, one line naming the file and the refresh', async () => {
    const { dir, path } = await cacheWithStaging();
    truncateSync(path, 100);
    const saved = process.env.VOUCH_CACHE_DIR;
    process.env.VOUCH_CACHE_DIR = dir;
    try {
      const r = await runCli(['chain', `oci:${join(work, 'no-such-layout')}`, '--json']);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0]!.includes(path), lines[0]);
      assert.match(lines[0]!, /run `vouch chain --tuf-refresh`/);
    } finally {
      process.env.VOUCH_CACHE_DIR = saved;
    }
  });
});
