/**
 * Writers: every fixture read and written again validates against the official
 * schemas (CycloneDX 1.6 through @cyclonedx/cyclonedx-library's strict JSON
 * validator, SPDX 2.3 through ajv and the SPDX 2.3 JSON schema from
 * spdx-spec), and conversions keep names, versions and purls.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import Ajv2019Module from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';
import { parseSbom, readSbomFile, toCycloneDx, toSpdx, type SbomInventory } from '../../src/core/packages/sbom/index.js';
import { comparePackages, type PackageInventory } from '../../src/core/packages/types.js';

const fx = (p: string): string => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));
const SYFT = 'syft/syft/format';

export const READABLE_FIXTURES = [
  'cyclonedx-bom-examples/SBOM/juice-shop/via_npm/bare/bom.1.4.json',
  'cyclonedx-bom-examples/SBOM/juice-shop/via_npm/flat/bom.1.4.json',
  'cyclonedx-bom-examples/SBOM/juice-shop/v11.1.2/bom.json',
  'cyclonedx-bom-examples/SBOM/laravel-7.12.0/bom.1.2.json',
  'cyclonedx-bom-examples/SBOM/laravel-7.12.0/bom.1.3.json',
  'cyclonedx-bom-examples/SBOM/laravel-7.12.0/bom.1.4.json',
  'cyclonedx-bom-examples/SBOM/dropwizard-1.3.15/bom.json',
  'cyclonedx-bom-examples/VEX/bom.json',
  'cyclonedx-bom-examples/VEX/vex.json',
  'spdx-spec/SPDXJSONExample-v2.3.spdx.json',
  'spdx-spec/SPDXJSONExample-v2.2.spdx.json',
  'syft/examples/decode_sbom/alpine.syft.json',
  `${SYFT}/testdata/alpine-syft.json`,
  `${SYFT}/spdxjson/testdata/spdx/alpine-3.10.syft.spdx.json`,
  `${SYFT}/spdxjson/testdata/spdx/alpine-3.10.vendor.spdx.json`,
  `${SYFT}/spdxjson/testdata/spdx/example7-bin.spdx.json`,
  `${SYFT}/spdxjson/testdata/spdx/example7-go-module.spdx.json`,
  `${SYFT}/spdxjson/testdata/spdx/example7-golang.spdx.json`,
  `${SYFT}/spdxjson/testdata/spdx/example7-third-party-modules.spdx.json`,
  `${SYFT}/spdxjson/testdata/identify/2.2.json`,
  `${SYFT}/spdxjson/testdata/identify/2.3.json`,
  `${SYFT}/syftjson/testdata/identify/11.0.0.json`,
  ...['1.2', '1.3', '1.4', '1.5', '1.6', '1.7', 'micronaut-1.4', 'micronaut-1.5', 'micronaut-1.6'].map((v) => `${SYFT}/cyclonedxjson/testdata/identify/${v}.json`),
  `${SYFT}/cyclonedxjson/testdata/snapshot/TestCycloneDxImageEncoder.golden`,
  `${SYFT}/cyclonedxjson/testdata/snapshot/TestCycloneDxDirectoryEncoder.golden`,
  `${SYFT}/spdxjson/testdata/snapshot/TestSPDXJSONImageEncoder.golden`,
  `${SYFT}/spdxjson/testdata/snapshot/TestSPDXRelationshipOrder.golden`,
  `${SYFT}/syftjson/testdata/snapshot/TestImageEncoder.golden`,
];

const META = { name: 'fixture', timestamp: '2024-05-01T12:00:00Z', uuid: '3e671687-395b-41f5-a30f-a58921a69b79', toolVersion: '0.1.0' };

// ajv ships CJS with a default export; under NodeNext the class is on .default.
const Ajv2019 = ((Ajv2019Module as unknown as { default?: unknown }).default ?? Ajv2019Module) as unknown as typeof Ajv2019Module.default;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as typeof addFormatsModule.default;

let validateSpdx: (doc: unknown) => string | null;
const cdxValidator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
async function validateCdx(doc: unknown): Promise<string | null> {
  const err = await cdxValidator.validate(JSON.stringify(doc));
  return err === null ? null : JSON.stringify(err).slice(0, 1000);
}

before(() => {
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  addFormats(ajv);
  const schema = JSON.parse(readFileSync(fx('spdx-spec/spdx-schema.json'), 'utf8'));
  const v = ajv.compile(schema);
  validateSpdx = (doc) => (v(doc) ? null : ajv.errorsText(v.errors).slice(0, 1000));
});

const ident = (inv: PackageInventory) => inv.packages.map((p) => `${p.type}|${p.name}|${p.version}|${p.purl}`);

describe('every fixture converted validates against the official schemas', () => {
  for (const f of READABLE_FIXTURES) {
    test(f, async () => {
      const inv = await readSbomFile(fx(f));
      const cdx = toCycloneDx(inv, META);
      assert.equal(await validateCdx(cdx), null);
      const spdx = toSpdx(inv, META);
      assert.equal(validateSpdx(spdx), null);
      // and both read back to the same packages
      const fromCdx = parseSbom(JSON.stringify(cdx), `${f} → cdx`);
      const fromSpdx = parseSbom(JSON.stringify(spdx), `${f} → spdx`);
      assert.deepEqual(ident(fromCdx), ident(inv));
      assert.deepEqual(ident(fromSpdx), ident(inv));
      assert.deepEqual(fromCdx.warnings.filter((w) => !/invalid purl/.test(w)), []);
      assert.deepEqual(fromSpdx.warnings, []);
    });
  }
});

describe('round trips', () => {
  let juice: SbomInventory;
  before(async () => {
    juice = await readSbomFile(fx('cyclonedx-bom-examples/SBOM/juice-shop/via_npm/bare/bom.1.4.json'));
  });
  test('CycloneDX → SPDX → packages keeps names, versions, purls, licences and locations', () => {
    const back = parseSbom(JSON.stringify(toSpdx(juice, META)), 'juice.spdx.json');
    assert.equal(back.packages.length, 1115);
    assert.deepEqual(back.packages.map((p) => [p.name, p.version, p.purl]), juice.packages.map((p) => [p.name, p.version, p.purl]));
    assert.deepEqual(back.packages.map((p) => p.locations), juice.packages.map((p) => p.locations));
    assert.deepEqual(back.packages.map((p) => p.licenses), juice.packages.map((p) => p.licenses));
  });
  test('CycloneDX → CycloneDX 1.6 keeps everything the model holds', () => {
    const back = parseSbom(JSON.stringify(toCycloneDx(juice, META)), 'juice.cdx.json');
    assert.deepEqual(back.packages, juice.packages);
  });
  test('syft → SPDX and CycloneDX keep distro and layer locations', async () => {
    const syft = await readSbomFile(fx('syft/examples/decode_sbom/alpine.syft.json'));
    for (const doc of [toSpdx(syft, META), toCycloneDx(syft, META)]) {
      const back = parseSbom(JSON.stringify(doc), 'alpine');
      assert.deepEqual({ id: back.distro?.id, versionId: back.distro?.versionId }, { id: 'alpine', versionId: '3.12.12' });
      assert.deepEqual(back.packages.map((p) => p.locations), syft.packages.map((p) => p.locations));
      assert.deepEqual(back.packages.map((p) => p.licenses), syft.packages.map((p) => p.licenses));
    }
  });
  test('writers are deterministic given META', async () => {
    const inv = await readSbomFile(fx('spdx-spec/SPDXJSONExample-v2.3.spdx.json'));
    assert.equal(JSON.stringify(toSpdx(inv, META)), JSON.stringify(toSpdx(inv, META)));
    assert.equal(JSON.stringify(toCycloneDx(inv, META)), JSON.stringify(toCycloneDx(inv, META)));
  });
  test('licences: SPDX ids, one expression, names and mixes all validate', async () => {
    const inv: PackageInventory = {
      source: 'catalog',
      distro: { id: 'debian', versionId: '12' },
      warnings: [],
      packages: [
        { name: 'a', version: '1', type: 'npm', purl: 'pkg:npm/a@1', licenses: ['MIT'], locations: [] },
        { name: 'b', version: '1', type: 'npm', purl: 'pkg:npm/b@1', licenses: ['MIT OR Apache-2.0'], locations: [] },
        { name: 'c', version: '1', type: 'npm', purl: 'pkg:npm/c@1', licenses: ['Apache License, Version 2.0', 'GPL-2.0+', 'MIT'], locations: [] },
        { name: 'd', version: '', type: 'generic', purl: 'pkg:generic/d', licenses: ['LicenseRef-x', '(MIT AND BSD-2-Clause)'], locations: [{ path: '/x, y', layer: null }] },
        { name: 'd', version: '', type: 'generic', purl: 'pkg:generic/d', licenses: [], locations: [{ path: '/z', layer: 'sha256:00' }] },
      ],
    };
    inv.packages.sort(comparePackages);
    assert.equal(await validateCdx(toCycloneDx(inv, META)), null);
    assert.equal(validateSpdx(toSpdx(inv, META)), null);
    const back = parseSbom(JSON.stringify(toSpdx(inv, META)), 'mixed');
    assert.deepEqual(back.packages.map((p) => p.locations), inv.packages.map((p) => p.locations));
    assert.deepEqual(back.packages.map((p) => p.licenses), inv.packages.map((p) => p.licenses));
  });
});
