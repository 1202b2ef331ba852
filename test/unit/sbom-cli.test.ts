/** `vouch sbom` through runCli: SBOM files read, normalised, converted, compared; images catalogued. */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/inspect.js';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { parseSbom } from '../../src/core/packages/sbom/index.js';

const fx = (p: string): string => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));
const JUICE = fx('cyclonedx-bom-examples/SBOM/juice-shop/via_npm/bare/bom.1.4.json');
const ALPINE_SYFT = fx('syft/examples/decode_sbom/alpine.syft.json');
const tmp = mkdtempSync(join(tmpdir(), 'vouch-sbom-cli-'));

describe('vouch sbom FILE', () => {
  test('--format json: exactly the documented shape, sorted by type, name, version', async () => {
    const r = await runCli(['sbom', JUICE, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(out), ['source', 'distro', 'packages']);
    assert.equal(out.source, 'file');
    assert.deepEqual(out.distro, { id: null, versionId: null });
    assert.equal(out.packages.length, 1115);
    for (const p of out.packages) assert.deepEqual(Object.keys(p), ['name', 'version', 'type', 'purl', 'licenses', 'locations']);
    const keys = out.packages.map((p: { type: string; name: string; version: string }) => [p.type, p.name, p.version]);
    const sorted = [...keys].sort((a, b) => (a.join('\0') < b.join('\0') ? -1 : a.join('\0') > b.join('\0') ? 1 : 0));
    assert.deepEqual(keys, sorted);
    assert.equal((await runCli(['sbom', JUICE, '--json'])).stdout, r.stdout);
  });
  test('table (the default): a summary line and one row per package', async () => {
    const r = await runCli(['sbom', ALPINE_SYFT]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /alpine\.syft\.json: 14 packages \(file, syft JSON \(schema 13\.0\.0\)\), distro alpine 3\.12\.12$/);
    assert.match(lines[2]!, /^TYPE\s+NAME\s+VERSION\s+LICENSES\s+LOCATION$/);
    assert.equal(lines.length, 3 + 14);
  });
  test('converts: CycloneDX → SPDX 2.3 JSON, SPDX → CycloneDX 1.6 JSON, syft → both', async () => {
    const spdx = await runCli(['sbom', JUICE, '--format', 'spdx-json']);
    assert.equal(spdx.code, 0, spdx.stderr);
    const sdoc = JSON.parse(spdx.stdout);
    assert.equal(sdoc.spdxVersion, 'SPDX-2.3');
    assert.equal(sdoc.name, 'bom.1.4.json');
    assert.equal(parseSbom(spdx.stdout, 'out').packages.length, 1115);
    const cdx = await runCli(['sbom', fx('spdx-spec/SPDXJSONExample-v2.3.spdx.json'), '--format', 'cyclonedx-json']);
    assert.equal(cdx.code, 0, cdx.stderr);
    assert.equal(JSON.parse(cdx.stdout).specVersion, '1.6');
    assert.equal(parseSbom(cdx.stdout, 'out').packages.length, 4);
    for (const f of ['spdx-json', 'cyclonedx-json']) {
      const r = await runCli(['sbom', ALPINE_SYFT, '--format', f]);
      assert.equal(parseSbom(r.stdout, 'out').packages.length, 14);
    }
  });
  test('--sbom FILE compares: JSON has comparison, the table lists the differences', async () => {
    const spdx310 = fx('syft/syft/format/spdxjson/testdata/spdx/alpine-3.10.syft.spdx.json');
    const j = await runCli(['sbom', spdx310, '--json', '--sbom', ALPINE_SYFT]);
    assert.equal(j.code, 0, j.stderr);
    const out = JSON.parse(j.stdout);
    assert.deepEqual(Object.keys(out), ['source', 'distro', 'packages', 'comparison']);
    assert.equal(out.comparison.onlyInAttached.length, 11);
    assert.equal(out.comparison.onlyInCatalog.length, 0);
    assert.deepEqual(out.comparison.versionMismatch.map((m: { name: string }) => m.name), ['busybox', 'libssl1.1', 'ssl_client']);
    const t = await runCli(['sbom', spdx310, '--sbom', ALPINE_SYFT]);
    assert.match(t.stdout, /compared with .*alpine\.syft\.json: 0 matched, 11 only in the attached SBOM, 0 only in the catalogue, 3 at different versions/);
    assert.match(t.stdout, /different versions \(3\):\nTYPE\s+NAME\s+ATTACHED\s+CATALOGUE\napk\s+busybox\s+1\.31\.1-r22\s+1\.30\.1-r5/);
  });
  test('bad input: exit 2, one line naming the file (and record)', async () => {
    const bad = fx('syft/syft/format/spdxjson/testdata/spdx/bad/example7-go-module.spdx.json');
    const r = await runCli(['sbom', bad]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    assert.match(r.stderr, /^vouch: error: .*example7-go-module\.spdx\.json: creationInfo\.creators\[0\] is an object/);
    const tv = await runCli(['sbom', fx('syft/syft/format/spdxtagvalue/testdata/tag-value.spdx')]);
    assert.equal(tv.code, 2);
    assert.match(tv.stderr, /tag-value\.spdx: SPDX 2\.3 tag-value: identified but not supported/);
    const trunc = join(tmp, 'trunc.cdx.json');
    writeFileSync(trunc, readFileSync(JUICE).subarray(0, 5000));
    const tr = await runCli(['sbom', trunc, '--json']);
    assert.equal(tr.code, 2);
    assert.match(tr.stderr, /trunc\.cdx\.json: malformed JSON \(the file looks truncated\)/);
    const badAttached = await runCli(['sbom', JUICE, '--sbom', trunc]);
    assert.equal(badAttached.code, 2);
    assert.equal((await runCli(['sbom', JUICE, '--format', 'xml'])).code, 2);
  });
  test('partly bad input: warnings on stderr, the rest on stdout, exit 0', async () => {
    const p = join(tmp, 'partial.cdx.json');
    writeFileSync(p, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ type: 'library', name: 'ok', version: '1', purl: 'pkg:npm/ok@1' }, { 'bom-ref': 'r1' }] }));
    const r = await runCli(['sbom', p, '--json']);
    assert.equal(r.code, 0);
    assert.equal(JSON.parse(r.stdout).packages.length, 1);
    assert.match(r.stderr, /^vouch: warning: .*partial\.cdx\.json: component bom-ref "r1": no "name"; skipped\n$/);
  });
  test('size limit from VOUCH_SBOM_MAX_BYTES', async () => {
    process.env.VOUCH_SBOM_MAX_BYTES = '1000';
    try {
      const r = await runCli(['sbom', ALPINE_SYFT]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /alpine\.syft\.json: SBOM is 0\.1 MiB, above the 0\.0 MiB limit/);
    } finally {
      delete process.env.VOUCH_SBOM_MAX_BYTES;
    }
  });
});

describe('vouch sbom REF (catalogImage)', () => {
  let layout: string;
  before(async () => {
    layout = join(tmp, 'alpine-layout');
    const apk = (p: string, v: string) => `P:${p}\nV:${v}\nA:x86_64\nL:MIT\nT:test\n\n`;
    await writeMiniLayout(layout, {
      tag: 'alpine',
      platforms: [{ os: 'linux', architecture: 'amd64' }],
      files: () => [
        { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.12.12\nPRETTY_NAME="Alpine Linux v3.12"\n' },
        { path: 'lib/apk/db/installed', content: apk('musl', '1.1.24-r10') + apk('zlib', '1.2.11-r0') + apk('extra-only-in-image', '1.0-r0') },
      ],
    });
  });
  test('an image is catalogued (source catalog) and compared with --sbom', async () => {
    const r = await runCli(['sbom', `oci:${layout}:alpine`, '--json', '--sbom', ALPINE_SYFT, '--platform', 'linux/amd64']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.source, 'catalog');
    assert.deepEqual(out.distro, { id: 'alpine', versionId: '3.12.12' });
    assert.deepEqual(out.packages.map((p: { name: string }) => p.name), ['extra-only-in-image', 'musl', 'zlib']);
    assert.deepEqual(out.comparison.onlyInCatalog.map((p: { name: string }) => p.name), ['extra-only-in-image']);
    assert.deepEqual(out.comparison.versionMismatch.map((m: { name: string; attachedVersion: string; catalogVersion: string }) => [m.name, m.attachedVersion, m.catalogVersion]), [['zlib', '1.2.12-r0', '1.2.11-r0']]);
    assert.equal(out.comparison.onlyInAttached.length, 12);
  });
  test('an image to CycloneDX 1.6 / SPDX 2.3', async () => {
    for (const f of ['cyclonedx-json', 'spdx-json']) {
      const r = await runCli(['sbom', `oci:${layout}:alpine`, '--format', f]);
      assert.equal(r.code, 0, r.stderr);
      const back = parseSbom(r.stdout, f);
      assert.equal(back.packages.length, 3);
      assert.equal(back.distro?.id, 'alpine');
    }
  });
});
