/**
 * Review of packages / diff / checks: each test pins a bug a user would hit
 * (failing before the fix next to it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runsAsRoot } from '../../src/core/checks/builtin/least-privilege.js';
import { redactLine } from '../../src/core/checks/redact.js';
import { readScanDocument } from '../../src/core/checks/scans.js';
import type { CheckContext } from '../../src/core/checks/types.js';
import { diffImages } from '../../src/core/diff/image.js';
import { diffInventories, packageKey } from '../../src/core/diff/packages.js';
import type { ImageAnalysis } from '../../src/core/layers/image-analysis.js';
import type { Package } from '../../src/core/packages/types.js';

const pkg = (type: string, name: string, version: string, purl: string): Package => ({ type, name, version, purl, licenses: [], locations: [] });

describe('review: secrets never reach diff output', () => {
  const analysis = (createdBy: string, cmd: string[]): ImageAnalysis =>
    ({
      config: { user: '', env: [], entrypoint: null, cmd, workingDir: '', exposedPorts: [], volumes: [], labels: {} },
      traceability: null,
      layers: [{ diffId: `sha256:${createdBy.length.toString(16).padStart(64, '0')}`, digest: 'sha256:x', uncompressedSize: 1, createdBy }],
    }) as unknown as ImageAnalysis;

  it('layer history lines (ARG values of RUN lines) are redacted in `vouch diff`', () => {
    const token = 'npm_abcdefghijklmnopqrstuvwxyz0123456789';
    const base = analysis('/bin/sh -c apt-get install -y curl', ['serve']);
    const target = analysis(`RUN |1 NPM_TOKEN=${token} /bin/sh -c npm ci`, ['serve', '--password=hunter2pw']);
    const d = diffImages(base, target, [], [], { base: new Map(), target: new Map() });
    const json = JSON.stringify(d);
    assert.ok(!json.includes(token), json);
    assert.ok(!json.includes('hunter2pw'), json);
    // Lines with nothing secret stay as they were.
    assert.equal(d.layers.removed[0]!.createdBy, '/bin/sh -c apt-get install -y curl');
    assert.deepEqual(d.config.cmd!.from, ['serve']);
  });

  it('ENV history lines: a value with spaces is redacted whole', () => {
    for (const line of ['/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter2 is my secret', 'ENV A=1 DB_PASSWORD=hunter2 is my secret B=2', 'ENV DB_PASSWORD hunter2 is my secret']) {
      const r = redactLine(line);
      assert.ok(!/hunter2|is my secret/.test(r), r);
    }
    assert.equal(redactLine('ENV A=1 B=2 PATH=/usr/bin:/bin'), 'ENV A=1 B=2 PATH=/usr/bin:/bin');
    assert.match(redactLine('ENV A=1 DB_PASSWORD=x y B=2'), /A=1 .*B=2/);
  });
});

describe('review: diff identity follows the purl spec name rules', () => {
  it('pypi names differing in case / separators are one package (syft writes pkg:pypi/PyYAML)', () => {
    assert.equal(packageKey({ purl: 'pkg:pypi/PyYAML@6.0', type: 'pypi', name: 'PyYAML' }), packageKey({ purl: 'pkg:pypi/pyyaml@6.0.1', type: 'pypi', name: 'pyyaml' }));
    const d = diffInventories(
      { packages: [pkg('pypi', 'PyYAML', '6.0', 'pkg:pypi/PyYAML@6.0'), pkg('pypi', 'typing_extensions', '4.0.0', 'pkg:pypi/typing_extensions@4.0.0')] },
      { packages: [pkg('pypi', 'pyyaml', '6.0.1', 'pkg:pypi/pyyaml@6.0.1'), pkg('pypi', 'typing-extensions', '4.0.0', 'pkg:pypi/typing-extensions@4.0.0')] },
    );
    assert.deepEqual(d.added, []);
    assert.deepEqual(d.removed, []);
    assert.deepEqual(d.changed.map((c) => [c.from, c.to, c.direction]), [['6.0', '6.0.1', 'upgrade']]);
  });

  it('npm names differing in case are one package (vouch lower-cases, syft does not)', () => {
    const d = diffInventories({ packages: [pkg('npm', 'JSONStream', '1.3.5', 'pkg:npm/JSONStream@1.3.5')] }, { packages: [pkg('npm', 'JSONStream', '1.3.5', 'pkg:npm/jsonstream@1.3.5')] });
    assert.deepEqual([d.added, d.removed, d.changed], [[], [], []]);
  });

  it('same name, different type stays two packages', () => {
    const d = diffInventories({ packages: [pkg('npm', 'six', '1.0.0', 'pkg:npm/six@1.0.0')] }, { packages: [pkg('pypi', 'six', '1.0.0', 'pkg:pypi/six@1.0.0')] });
    assert.equal(d.added.length, 1);
    assert.equal(d.removed.length, 1);
  });
});

describe('review: checks', () => {
  const ctx = (user: string, passwd?: Array<{ name: string; uid: number; gid: number }>): CheckContext =>
    ({ analysis: { config: { user } }, facts: passwd ? { passwd } : {} }) as unknown as CheckContext;
  const isRoot = (user: string, passwd?: Array<{ name: string; uid: number; gid: number }>): boolean => Array.isArray(runsAsRoot.run(ctx(user, passwd)));

  it('VCH-LP-001: any numeric spelling of uid 0 is root', () => {
    for (const u of ['00', '000:0', '0000:1000', ' 0 ', 'root:root', '0:0']) assert.ok(isRoot(u), u);
    // USER 1000 is uid 1000 even when /etc/passwd names uid 0 "1000"-something: numeric users are uids.
    assert.ok(!isRoot('1000', [{ name: 'toor', uid: 0, gid: 0 }]));
    assert.ok(!isRoot('10', [{ name: 'x', uid: 0, gid: 0 }]));
    assert.ok(isRoot('toor', [{ name: 'toor', uid: 0, gid: 0 }]));
  });

  it('VCH-CP-002: a scan time without a zone is UTC, not the local time zone', () => {
    const trivy = { SchemaVersion: 2, ArtifactName: 'x', CreatedAt: '2024-05-01T10:00:00', Results: [] };
    assert.equal(readScanDocument(trivy, 't.json').scannedAt, '2024-05-01T10:00:00.000Z');
    const zoned = { ...trivy, CreatedAt: '2024-05-01T10:00:00+02:00' };
    assert.equal(readScanDocument(zoned, 't.json').scannedAt, '2024-05-01T08:00:00.000Z');
  });
});

it('redactLine stays linear on long hostile history lines', () => {
  const long = `RUN ${'a'.repeat(40_000)} ${'b'.repeat(40_000)}=x TOKEN=ghp_${'Z'.repeat(36)}`;
  const t0 = process.hrtime.bigint();
  const out = redactLine(long);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  // Not a speed target: a guard against the quadratic blow-up (seconds to minutes at this size), with a wide margin.
  assert.ok(ms < 3000, `took ${ms} ms`);
  assert.ok(out.length <= 16 * 1024 + 1);
  assert.equal(redactLine('RUN |1 NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789 /bin/sh -c npm ci').includes('npm_abc'), false);
});
