/**
 * Local files a user or an attacker can name (the session, release, policy and
 * trust files, keys, certificates, compose includes, SBOMs, scan reports, the
 * trusted root, approval bundles) lead to a FIFO, to /dev/zero through a
 * symlink, or to a file above the kind's bound: each reader ends at once with
 * one line naming the file, exit 2 — no hang, no memory growth.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readApprovalBundle } from '../../src/core/approval/attach.js';
import { loadPrivateKey } from '../../src/core/approval/key.js';
import { readWorkloadImages } from '../../src/core/approval/workloads.js';
import { loadPolicy } from '../../src/core/checks/policy.js';
import { readScanFile } from '../../src/core/checks/scans.js';
import { isVouchError } from '../../src/core/errors.js';
import { readSbomFile } from '../../src/core/packages/sbom/index.js';
import { loadReleaseFile } from '../../src/core/review/release.js';
import { readSessionFile } from '../../src/core/review/store.js';
import { loadTrustedRoot } from '../../src/core/trust/trusted-root.js';
import { loadTrustFile } from '../../src/core/trust/trust-file.js';
import { readLocalFile, readLocalFileSync } from '../../src/core/util/local-file.js';

const dir = mkdtempSync(join(tmpdir(), 'vouch-local-files-'));

/** A FIFO nobody writes to: a blocking open or read of it never returns. */
function fifo(name: string): string {
  const p = join(dir, name);
  execFileSync('mkfifo', [p]);
  return p;
}
function toDevZero(name: string): string {
  const p = join(dir, name);
  symlinkSync('/dev/zero', p);
  return p;
}
/** A sparse file one byte above `max`: costs no disk, and a reader that reads it whole would still use the memory. */
function oversize(name: string, max: number): string {
  const p = join(dir, name);
  writeFileSync(p, '');
  truncateSync(p, max + 1);
  return p;
}

interface Reader {
  kind: string;
  read: (path: string) => Promise<unknown>;
  max: number;
}

const composeIncluding = (name: string, target: string): string => {
  const p = join(dir, name);
  writeFileSync(p, `services:\n  app:\n    image: 127.0.0.1:5000/x@sha256:${'0'.repeat(64)}\ninclude:\n  - ${target}\n`);
  return p;
};

const trustNaming = (name: string, keyPath: string): string => {
  const p = join(dir, name);
  writeFileSync(p, `reviewers:\n  - {name: bob, key: ${keyPath}}\n`);
  return p;
};

const readers: Reader[] = [
  { kind: 'session', read: (p) => readSessionFile(p), max: 256 << 20 },
  { kind: 'release file', read: (p) => loadReleaseFile(p), max: 1 << 20 },
  { kind: 'policy file', read: (p) => loadPolicy(p), max: 1 << 20 },
  { kind: 'trust file', read: (p) => loadTrustFile(p), max: 1 << 20 },
  { kind: 'reviewer key named by a trust file', read: (p) => loadTrustFile(trustNaming(`trust-${Math.random()}.yaml`, p)), max: 1 << 20 },
  { kind: 'private key', read: (p) => loadPrivateKey(p, 'pw'), max: 1 << 20 },
  { kind: 'manifest', read: (p) => readWorkloadImages(p), max: 16 << 20 },
  { kind: 'compose include', read: (p) => readWorkloadImages(composeIncluding(`compose-${Math.random()}.yaml`, p)), max: 16 << 20 },
  { kind: 'sbom', read: (p) => readSbomFile(p), max: 256 << 20 },
  { kind: 'scan report', read: (p) => readScanFile(p, 1 << 20), max: 1 << 20 },
  { kind: 'trusted root', read: async (p) => loadTrustedRoot(p), max: 16 << 20 },
  { kind: 'approval bundle', read: (p) => readApprovalBundle(p), max: 8 << 20 },
];

async function refused(r: Reader, path: string, expect: RegExp): Promise<void> {
  await assert.rejects(r.read(path), (e: unknown) => {
    assert.ok(isVouchError(e), `${r.kind}: ${String(e)}`);
    assert.equal(e.exitCode, 2, `${r.kind}: exit code`);
    const line = e.message;
    assert.ok(!line.includes('\n'), `${r.kind}: one line: ${line}`);
    assert.ok(line.includes(path.split('/').pop()!), `${r.kind}: names the file: ${line}`);
    assert.match(line, expect, `${r.kind}`);
    return true;
  });
}

describe('local files a user or attacker can name', () => {
  // A hang fails the test by its timeout instead of stalling the suite.
  for (const r of readers) {
    const slug = r.kind.replace(/\W+/g, '-');
    test(`${r.kind}: a FIFO is refused without waiting for a writer`, { timeout: 20_000 }, async () => {
      await refused(r, fifo(`${slug}.fifo`), /FIFO|not a regular file/);
    });
    test(`${r.kind}: a symlink to /dev/zero is refused without reading it`, { timeout: 20_000 }, async () => {
      await refused(r, toDevZero(`${slug}.zero`), /device|not a regular file/);
    });
    test(`${r.kind}: a file above the bound is refused before it is read`, { timeout: 20_000 }, async () => {
      await refused(r, oversize(`${slug}.big`, r.max), /larger|above|more than|MiB/);
    });
  }

  test('a compose include of /dev/urandom is refused', { timeout: 20_000 }, async () => {
    await refused(readers.find((r) => r.kind === 'compose include')!, '/dev/urandom', /device/);
  });

  test('the shared reader: a regular file reads whole, at the bound exactly, and the sync reader agrees', async () => {
    const p = join(dir, 'exact');
    writeFileSync(p, 'x'.repeat(100));
    assert.equal((await readLocalFile(p, { what: 'thing', max: 100 })).length, 100);
    assert.equal(readLocalFileSync(p, { what: 'thing', max: 100 }).length, 100);
    await assert.rejects(readLocalFile(p, { what: 'thing', max: 99 }), /thing larger than 99 bytes/);
    assert.throws(() => readLocalFileSync(p, { what: 'thing', max: 99 }), /thing larger than 99 bytes/);
    await assert.rejects(readLocalFile(join(dir, 'missing'), { what: 'thing', max: 99 }), /missing: cannot read thing \(ENOENT\)/);
    await assert.rejects(readLocalFile(dir, { what: 'thing', max: 99 }), /a directory, not a regular file/);
  });
});

describe('a FIFO or device named as an image', () => {
  test('vouch sbom / inspect FILE: a FIFO and a /dev/zero symlink are refused at once (no image, no hang)', { timeout: 20_000 }, async () => {
    const { resolveReference } = await import('../../src/core/sources/open.js');
    for (const p of [fifo('image.fifo.tar'), toDevZero('image.zero.tar')]) {
      await assert.rejects(resolveReference(p), (e: unknown) => {
        assert.ok(isVouchError(e), String(e));
        assert.equal(e.exitCode, 2);
        assert.match(e.message, /not a regular file/);
        assert.ok(e.message.includes(p));
        return true;
      });
    }
  });
});
