/**
 * SBOM readers against the real upstream documents (test/fixtures/{cyclonedx-bom-examples,
 * spdx-spec,syft}; expected figures from the shared MANIFEST.md §11–13).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VouchError } from '../../src/core/errors.js';
import { detectSbom } from '../../src/core/packages/sbom/detect.js';
import { parseSbom, readSbomFile, SbomError } from '../../src/core/packages/sbom/index.js';

const fx = (p: string): string => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));
const CDX = 'cyclonedx-bom-examples/SBOM';
const SYFT = 'syft/syft/format';

function identify(p: string) {
  return detectSbom(readFileSync(fx(p), 'utf8'), p);
}

describe('format identification by content (syft identify vectors)', () => {
  for (const v of ['1.2', '1.3', '1.4', '1.5', '1.6', '1.7']) {
    test(`CycloneDX ${v}`, () => {
      const d = identify(`${SYFT}/cyclonedxjson/testdata/identify/${v}.json`);
      assert.deepEqual(d.format, { name: 'cyclonedx-json', version: v });
      assert.equal(d.supported, true);
    });
  }
  for (const v of ['1.4', '1.5', '1.6']) {
    test(`micronaut-${v}.json has no $schema and is CycloneDX ${v}`, () => {
      const p = `${SYFT}/cyclonedxjson/testdata/identify/micronaut-${v}.json`;
      assert.equal(JSON.parse(readFileSync(fx(p), 'utf8')).$schema, undefined);
      assert.deepEqual(identify(p).format, { name: 'cyclonedx-json', version: v });
    });
  }
  test('SPDX 2.2 and 2.3 JSON', () => {
    assert.deepEqual(identify(`${SYFT}/spdxjson/testdata/identify/2.2.json`).format, { name: 'spdx-json', version: '2.2' });
    assert.deepEqual(identify(`${SYFT}/spdxjson/testdata/identify/2.3.json`).format, { name: 'spdx-json', version: '2.3' });
  });
  test('SPDX 3.0 JSON-LD: identified, unsupported', () => {
    const d = identify(`${SYFT}/spdxjson/testdata/identify/3.0.json`);
    assert.equal(d.format.name, 'spdx-jsonld');
    assert.match(d.format.version, /^3\.0/);
    assert.equal(d.supported, false);
  });
  test('syft JSON 11.0.0', () => {
    assert.deepEqual(identify(`${SYFT}/syftjson/testdata/identify/11.0.0.json`).format, { name: 'syft-json', version: '11.0.0' });
  });
  for (const [f, v] of [['identify/2.1.sbom', '2.1'], ['identify/2.2.sbom', '2.2'], ['identify/2.3.sbom', '2.3'], ['tag-value.spdx', '2.3']] as const) {
    test(`SPDX tag-value ${f}: identified as ${v}, unsupported`, () => {
      const d = identify(`${SYFT}/spdxtagvalue/testdata/${f}`);
      assert.deepEqual(d.format, { name: 'spdx-tag-value', version: v });
      assert.equal(d.supported, false);
    });
  }
  test('syft encoder snapshots are identified too', () => {
    assert.deepEqual(identify(`${SYFT}/cyclonedxjson/testdata/snapshot/TestCycloneDxImageEncoder.golden`).format, { name: 'cyclonedx-json', version: '1.7' });
    assert.deepEqual(identify(`${SYFT}/spdxjson/testdata/snapshot/TestSPDX22JSONRequredProperties.golden`).format, { name: 'spdx-json', version: '2.2' });
    assert.equal(identify(`${SYFT}/syftjson/testdata/snapshot/TestImageEncoder.golden`).format.name, 'syft-json');
    assert.equal(identify(`${SYFT}/internal/testutil/testdata/snapshot/TestSPDXTagValueImageEncoder.golden`).format.name, 'spdx-tag-value');
  });
});

describe('rejected documents: clear one-line errors naming the file (and the record)', () => {
  const rejects = async (p: string, re: RegExp) => {
    await assert.rejects(readSbomFile(fx(p)), (e: unknown) => {
      assert.ok(e instanceof SbomError && e instanceof VouchError, String(e));
      assert.equal(e.exitCode, 2);
      assert.ok(!e.message.includes('\n'));
      assert.ok(e.message.startsWith(fx(p)), e.message);
      assert.match(e.message, re);
      return true;
    });
  };
  test('cyclonedxjson bad-sbom', () => rejects(`${SYFT}/cyclonedxjson/testdata/bad-sbom`, /not an SBOM/));
  test('spdxtagvalue bad-sbom', () => rejects(`${SYFT}/spdxtagvalue/testdata/bad-sbom`, /not an SBOM/));
  test('spdxjson bad/bad-sbom', () => rejects(`${SYFT}/spdxjson/testdata/spdx/bad/bad-sbom`, /not an SBOM/));
  for (const f of ['example7-bin', 'example7-go-module', 'example7-golang', 'example7-third-party-modules']) {
    test(`spdxjson bad/${f}: identified as SPDX 2.2, decode fails`, async () => {
      const p = `${SYFT}/spdxjson/testdata/spdx/bad/${f}.spdx.json`;
      assert.deepEqual(identify(p).format, { name: 'spdx-json', version: '2.2' });
      await rejects(p, /creationInfo\.creators\[0\] is an object/);
    });
  }
  test('a bad package record is named by its SPDXID', () => {
    const doc = JSON.parse(readFileSync(fx(`${SYFT}/spdxjson/testdata/spdx/bad/example7-golang.spdx.json`), 'utf8'));
    doc.creationInfo.creators = ['Tool: x'];
    assert.throws(() => parseSbom(JSON.stringify(doc), 'golang.spdx.json'), /^SbomError: golang\.spdx\.json: no usable package: 2 of 2 malformed \(first: package SPDXRef-[^:]+: no "name" \(found "packageName"/);
  });
  test('SPDX 3.0 JSON-LD and tag-value: unsupported', async () => {
    await rejects(`${SYFT}/spdxjson/testdata/identify/3.0.json`, /SPDX 3\.0\.1 JSON-LD: identified but not supported/);
    await rejects(`${SYFT}/spdxtagvalue/testdata/tag-value.spdx`, /SPDX 2\.3 tag-value: identified but not supported; convert it to SPDX JSON/);
  });
});

describe('CycloneDX counts (bom-examples)', () => {
  const cases: Array<[string, string, number]> = [
    ['juice-shop 1.4 bare (nested)', `${CDX}/juice-shop/via_npm/bare/bom.1.4.json`, 1115],
    ['juice-shop 1.4 flat', `${CDX}/juice-shop/via_npm/flat/bom.1.4.json`, 1115],
    ['juice-shop v11.1.2 (1.2)', `${CDX}/juice-shop/v11.1.2/bom.json`, 840],
    ['laravel 1.2', `${CDX}/laravel-7.12.0/bom.1.2.json`, 62],
    ['laravel 1.3', `${CDX}/laravel-7.12.0/bom.1.3.json`, 62],
    ['laravel 1.4', `${CDX}/laravel-7.12.0/bom.1.4.json`, 62],
    ['dropwizard', `${CDX}/dropwizard-1.3.15/bom.json`, 167],
    ['VEX bom 1.3', 'cyclonedx-bom-examples/VEX/bom.json', 3],
    ['VEX vex 1.4 (no components)', 'cyclonedx-bom-examples/VEX/vex.json', 0],
  ];
  for (const [label, p, n] of cases) {
    test(`${label} → ${n}`, async () => {
      const inv = await readSbomFile(fx(p));
      assert.equal(inv.format.name, 'cyclonedx-json');
      assert.equal(inv.packages.length, n);
      assert.equal(inv.source, 'file');
      assert.deepEqual(inv.warnings, []);
    });
  }
  test('nested and flat juice-shop give the same packages', async () => {
    const a = await readSbomFile(fx(`${CDX}/juice-shop/via_npm/bare/bom.1.4.json`));
    const b = await readSbomFile(fx(`${CDX}/juice-shop/via_npm/flat/bom.1.4.json`));
    const key = (i: typeof a) => i.packages.map((p) => `${p.purl} ${p.locations.map((l) => l.path).join()}`).sort();
    assert.deepEqual(key(a), key(b));
  });
  test('npm scopes, purls, licences (id, name, expression), npm install paths', async () => {
    const inv = await readSbomFile(fx(`${CDX}/juice-shop/via_npm/bare/bom.1.4.json`));
    const p = inv.packages.find((x) => x.purl === 'pkg:npm/%40mapbox/node-pre-gyp@1.0.10');
    assert.ok(p);
    assert.equal(p.name, '@mapbox/node-pre-gyp');
    assert.equal(p.type, 'npm');
    assert.deepEqual(p.licenses, ['BSD-3-Clause']);
    assert.deepEqual(p.locations, [{ path: 'node_modules/@mapbox/node-pre-gyp', layer: null }]);
    const nested = inv.packages.filter((x) => x.purl === 'pkg:npm/ansi-regex@5.0.1');
    assert.ok(nested.length > 1, 'the same package installed at several paths stays several packages');
    assert.ok(inv.packages.some((x) => x.licenses.some((l) => / (OR|AND) /.test(l))), 'expressions');
    const dw = await readSbomFile(fx(`${CDX}/dropwizard-1.3.15/bom.json`));
    assert.ok(dw.packages.every((x) => x.type === 'maven'));
    assert.ok(dw.packages.some((x) => x.licenses.some((l) => !/^[A-Za-z0-9.+-]+$/.test(l))), 'licence names');
  });
  test('sorted by type, name, version', async () => {
    const inv = await readSbomFile(fx(`${CDX}/laravel-7.12.0/bom.1.4.json`));
    const keys = inv.packages.map((p) => [p.type, p.name, p.version].join('\0'));
    assert.deepEqual(keys, [...keys].sort());
  });
  test('syft CycloneDX 1.7: operating-system component → distro, syft locations, invalid purl warned', async () => {
    const p = `${SYFT}/cyclonedxjson/testdata/snapshot/TestCycloneDxImageEncoder.golden`;
    const inv = await readSbomFile(fx(p));
    assert.equal(inv.records, 3);
    assert.equal(inv.packages.length, 2);
    assert.deepEqual({ id: inv.distro?.id, versionId: inv.distro?.versionId }, { id: 'debian', versionId: '1.2.3' });
    const deb = inv.packages.find((x) => x.name === 'package-2')!;
    assert.deepEqual(deb.locations, [{ path: '/somefile-2.txt', layer: 'sha256:redacted' }]);
    const py = inv.packages.find((x) => x.name === 'package-1')!;
    assert.equal(py.type, 'pypi');
    assert.equal(py.purl, 'pkg:pypi/package-1@1.0.1');
    assert.equal(inv.warnings.length, 1);
    assert.match(inv.warnings[0]!, /component bom-ref "2f52f617f1548337": invalid purl "a-purl-1"/);
  });
});

describe('syft JSON', () => {
  for (const [label, p, schema] of [
    ['schema 13.0.0', 'syft/examples/decode_sbom/alpine.syft.json', '13.0.0'],
    ['schema 1.1.0 (old shapes)', `${SYFT}/testdata/alpine-syft.json`, '1.1.0'],
  ] as const) {
    test(`alpine ${label} → 14 apk packages`, async () => {
      const inv = await readSbomFile(fx(p));
      assert.deepEqual(inv.format, { name: 'syft-json', version: schema });
      assert.equal(inv.packages.length, 14);
      assert.ok(inv.packages.every((x) => x.type === 'apk'));
      assert.equal(inv.distro?.id, 'alpine');
      const musl = inv.packages.find((x) => x.name === 'musl')!;
      assert.deepEqual(musl.licenses, ['MIT']);
      assert.equal(musl.locations[0]!.path, '/lib/apk/db/installed');
      assert.match(musl.locations[0]!.layer!, /^sha256:[0-9a-f]{64}$/);
    });
  }
  test('distro: new {id, versionID} and old {name, version}', async () => {
    assert.equal((await readSbomFile(fx('syft/examples/decode_sbom/alpine.syft.json'))).distro?.versionId, '3.12.12');
    assert.equal((await readSbomFile(fx(`${SYFT}/testdata/alpine-syft.json`))).distro?.versionId, '3.14.2');
  });
  test('syft identify vector 11.0.0 and encoder snapshots read', async () => {
    assert.ok((await readSbomFile(fx(`${SYFT}/syftjson/testdata/identify/11.0.0.json`))).packages.length > 0);
    for (const f of ['TestImageEncoder', 'TestDirectoryEncoder', 'TestEncodeFullJSONDocument']) {
      const inv = await readSbomFile(fx(`${SYFT}/syftjson/testdata/snapshot/${f}.golden`));
      assert.deepEqual(inv.packages.map((p) => `${p.type} ${p.name}@${p.version}`).sort(), ['deb package-2@2.0.1', 'pypi package-1@1.0.1']);
    }
  });
});

describe('SPDX JSON', () => {
  test('kitchen-sink 2.3 → 4 packages, 2.2 → 4', async () => {
    const a = await readSbomFile(fx('spdx-spec/SPDXJSONExample-v2.3.spdx.json'));
    assert.deepEqual(a.format, { name: 'spdx-json', version: '2.3' });
    assert.equal(a.packages.length, 4);
    const b = await readSbomFile(fx('spdx-spec/SPDXJSONExample-v2.2.spdx.json'));
    assert.deepEqual(b.format, { name: 'spdx-json', version: '2.2' });
    assert.equal(b.packages.length, 4);
    const jena = a.packages.find((p) => p.name === 'Jena')!;
    assert.equal(jena.purl, 'pkg:maven/org.apache.jena/apache-jena@3.12.0');
    assert.equal(jena.type, 'maven');
    const glibc = a.packages.find((p) => p.name === 'glibc')!;
    assert.deepEqual(glibc.licenses, ['(LGPL-2.0-only AND LicenseRef-3)', '(LGPL-2.0-only OR LicenseRef-3)']);
    assert.equal(glibc.purl, 'pkg:generic/glibc@2.11.1');
    assert.ok(Number(glibc.metadata?.['spdx:files']) >= 1, 'hasFiles counted');
    assert.deepEqual(a.warnings, []);
  });
  test('alpine-3.10 (syft SPDX 2.2) → busybox, libssl1.1, ssl_client', async () => {
    const inv = await readSbomFile(fx(`${SYFT}/spdxjson/testdata/spdx/alpine-3.10.syft.spdx.json`));
    assert.deepEqual(inv.packages.map((p) => p.name), ['busybox', 'libssl1.1', 'ssl_client']);
    assert.deepEqual(inv.distro, { id: 'alpine', versionId: '3.10.9' });
    assert.equal(inv.packages[0]!.purl, 'pkg:apk/alpine/busybox@1.30.1-r5?arch=x86_64&distro=alpine-3.10.9');
  });
  test('alpine-3.10 vendor SPDX → 3 packages (alpine, busybox, ssl_client), LicenseRefs named', async () => {
    const inv = await readSbomFile(fx(`${SYFT}/spdxjson/testdata/spdx/alpine-3.10.vendor.spdx.json`));
    assert.deepEqual(inv.packages.map((p) => p.name).sort(), ['alpine', 'busybox', 'ssl_client']);
  });
  for (const f of ['example7-bin', 'example7-go-module', 'example7-golang', 'example7-third-party-modules']) {
    test(`${f} decodes (SPDX 2.2)`, async () => {
      const inv = await readSbomFile(fx(`${SYFT}/spdxjson/testdata/spdx/${f}.spdx.json`));
      assert.deepEqual(inv.format, { name: 'spdx-json', version: '2.2' });
      assert.ok(inv.packages.length >= 1);
    });
  }
  test('syft SPDX encoder snapshots: 2 packages (image: its CONTAINER root is the subject, not a package), relationship order 3', async () => {
    assert.equal((await readSbomFile(fx(`${SYFT}/spdxjson/testdata/snapshot/TestSPDXJSONImageEncoder.golden`))).packages.length, 2);
    assert.equal((await readSbomFile(fx(`${SYFT}/spdxjson/testdata/snapshot/TestSPDXRelationshipOrder.golden`))).packages.length, 2);
    assert.equal((await readSbomFile(fx(`${SYFT}/spdxjson/testdata/identify/2.3.json`))).format.version, '2.3');
  });
});
