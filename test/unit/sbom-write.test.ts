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

// --- issue 9 item 10: the image is named by repository and manifest digest ------------------

import { imagePurl, imageSubject } from '../../src/core/packages/sbom/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { runCli } from '../helpers/inspect.js';

const DIGEST = `sha256:${'c'.repeat(64)}`;

describe('the image an SBOM describes', () => {
  test('imageSubject/imagePurl from the parsed reference, as syft writes pkg:oci', () => {
    const s = imageSubject({ reference: 'docker://127.0.0.1:5000/team/app:1.2', name: '127.0.0.1:5000/team/app:1.2', digest: DIGEST, platform: { architecture: 'amd64' } });
    assert.deepEqual(s, { repository: '127.0.0.1:5000/team/app', name: 'app', digest: DIGEST, tag: '1.2', arch: 'amd64' });
    assert.equal(imagePurl(s), `pkg:oci/app@sha256%3A${'c'.repeat(64)}?arch=amd64&repository_url=127.0.0.1:5000/team/app&tag=1.2`);
    const d = imageSubject({ reference: 'docker-daemon:alpine:3.20', name: 'alpine:3.20', digest: DIGEST });
    assert.equal(imagePurl(d), `pkg:oci/alpine@sha256%3A${'c'.repeat(64)}?repository_url=docker.io/library/alpine&tag=3.20`);
    const l = imageSubject({ reference: 'oci:/tmp/layouts/web:v1', name: 'web:v1', digest: DIGEST });
    assert.equal(imagePurl(l), `pkg:oci/web@sha256%3A${'c'.repeat(64)}?tag=v1`);
  });

  test('a daemon copy (synthesised manifest digest) never pairs that digest with repository_url: the repo digest the daemon recorded for that repository, else no repository_url', () => {
    const REPO = `sha256:${'d'.repeat(64)}`;
    const base = { reference: 'docker-daemon:127.0.0.1:5000/rev9/app:1', name: '127.0.0.1:5000/rev9/app:1', digest: DIGEST, synthesizedManifest: true };
    // Pulled: RepoDigests names the registry manifest for this repository (others are ignored).
    const pulled = imageSubject({ ...base, repoDigests: [`127.0.0.1:5000/other/app@sha256:${'e'.repeat(64)}`, `127.0.0.1:5000/rev9/app@${REPO}`] });
    assert.equal(imagePurl(pulled), `pkg:oci/app@sha256%3A${'d'.repeat(64)}?repository_url=127.0.0.1:5000/rev9/app&tag=1`);
    // Docker Hub short form in RepoDigests ("alpine@sha256:…") is docker.io/library/alpine.
    const hub = imageSubject({ reference: 'docker-daemon:alpine:3.20', name: 'alpine:3.20', digest: DIGEST, synthesizedManifest: true, repoDigests: [`alpine@${REPO}`] });
    assert.equal(imagePurl(hub), `pkg:oci/alpine@sha256%3A${'d'.repeat(64)}?repository_url=docker.io/library/alpine&tag=3.20`);
    // Built locally (or the cache answered without the daemon's RepoDigests): the synthesised digest, no repository_url.
    for (const repoDigests of [[], undefined]) {
      const local = imageSubject({ ...base, ...(repoDigests ? { repoDigests } : {}) });
      assert.equal(local.repository, null);
      assert.equal(imagePurl(local), `pkg:oci/app@sha256%3A${'c'.repeat(64)}?tag=1`);
    }
  });

  test('CycloneDX metadata.component and the SPDX described package carry it; both still validate and read back to the same packages', async () => {
    const inv = await readSbomFile(fx(READABLE_FIXTURES[3]!));
    const image = imageSubject({ reference: 'docker://ghcr.io/acme/web:2', name: 'ghcr.io/acme/web:2', digest: DIGEST, platform: { architecture: 'arm64' } });
    const purl = imagePurl(image);
    const cdx = toCycloneDx(inv, { ...META, image }) as { metadata: { component: Record<string, unknown> } };
    assert.equal(await validateCdx(cdx), null);
    assert.deepEqual(cdx.metadata.component, { 'bom-ref': purl, type: 'container', name: 'ghcr.io/acme/web', version: DIGEST, purl, hashes: [{ alg: 'SHA-256', content: 'c'.repeat(64) }] });
    const spdx = toSpdx(inv, { ...META, image }) as { packages: Array<Record<string, unknown>>; relationships: Array<Record<string, string>> };
    assert.equal(validateSpdx(spdx), null);
    const described = spdx.relationships.filter((r) => r.relationshipType === 'DESCRIBES').map((r) => r.relatedSpdxElement);
    assert.equal(described.length, 1);
    const root = spdx.packages.find((p) => p.SPDXID === described[0])!;
    assert.equal(root.name, 'ghcr.io/acme/web');
    assert.equal(root.versionInfo, DIGEST);
    assert.equal(root.primaryPackagePurpose, 'CONTAINER');
    assert.deepEqual(root.externalRefs, [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl }]);
    assert.equal(spdx.relationships.filter((r) => r.relationshipType === 'CONTAINS').length, inv.packages.length);
    assert.deepEqual(ident(parseSbom(JSON.stringify(spdx), 'spdx')), ident(inv));
    assert.deepEqual(ident(parseSbom(JSON.stringify(cdx), 'cdx')), ident(inv));
  });

  test('vouch sbom IMAGE --format cyclonedx-json / spdx-json names the image by its manifest digest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vouch-sbom-subject-'));
    const lay = await writeMiniLayout(join(dir, 'web'), { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }] });
    const digest = lay.images[0]!.manifestDigest;
    const c = await runCli(['sbom', `oci:${lay.dir}:v1`, '--format', 'cyclonedx-json']);
    assert.equal(c.code, 0, c.stderr);
    const cdx = JSON.parse(c.stdout);
    assert.equal(cdx.metadata.component.version, digest);
    assert.equal(cdx.metadata.component.purl, `pkg:oci/web@${digest.replace(':', '%3A')}?arch=amd64&tag=v1`);
    assert.equal(await validateCdx(cdx), null);
    const s = await runCli(['sbom', `oci:${lay.dir}:v1`, '--format', 'spdx-json']);
    const spdx = JSON.parse(s.stdout);
    assert.equal(validateSpdx(spdx), null);
    assert.equal(spdx.packages[0].versionInfo, digest);
  });
});

// ---------------------------------------------------------------------------
// Issue 12 (a gap left by session 3): what makes an inventory incomplete (a
// foreign layer not fetched, an archive that could not be read...) was said
// only on stderr, so a pipeline that stores the CycloneDX or SPDX document lost
// it. The documents now carry each warning in the format's own place
// (CycloneDX metadata.properties `vouch:warning` plus a composition whose
// aggregate is `incomplete`; SPDX creationInfo.comment), stay valid against the
// official schemas, keep the image's strings escaped, and the exit code and
// stderr are what they were.
import { mkdtemp, rm } from 'node:fs/promises';
import { tar } from '../helpers/tar-writer.js';
import { writeLayersLayout } from '../helpers/layer-layout.js';

describe('the inventory\'s warnings in the documents', () => {
  // C1 CSI and a bidi override pass the manifest's URI check; ESC comes in through a file name.
  const URL_FROM_IMAGE = 'http://127.0.0.1:9/foreign/\u009b31m\u202ebase.tar.gz';
  const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

  async function foreignImage(t: { after: (f: () => Promise<void>) => void }, withForeign = true): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'vouch-sbom-docwarn-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    process.env.VOUCH_CACHE_DIR = join(dir, 'cache');
    const status = 'Package: evil-backdoor\nStatus: install ok installed\nVersion: 6.6.6\nArchitecture: amd64\n\n';
    const l = await writeLayersLayout(
      join(dir, 'layout'),
      [
        tar([{ name: 'var/lib/dpkg/', type: 'dir' }, { name: 'var/lib/dpkg/status', data: status }]),
        tar([
          { name: 'var/lib/dpkg/', type: 'dir' },
          { name: 'var/lib/dpkg/status', data: 'Package: curl\nStatus: install ok installed\nVersion: 8.5.0-2\nArchitecture: amd64\n\n' },
          // Not a zip: a warning that quotes the file's name.
          { name: 'app/\u001b[2Jx-1.0.jar', data: 'not a zip at all' },
        ]),
      ],
      'test',
      {},
      withForeign ? [{ mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', urls: [URL_FROM_IMAGE] }] : [],
    );
    if (withForeign) await rm(l.layers[0]!.path);
    return l.ref;
  }

  test('sbom: the foreign layer and every other warning are in the CycloneDX and SPDX documents; stderr and exit code unchanged', async (t) => {
    const ref = await foreignImage(t);
    const json = await runCli(['sbom', ref, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const warnings: string[] = JSON.parse(json.stdout).warnings;
    assert.equal(warnings.length, 2, json.stdout);
    assert.match(warnings[0]!, /^layer 0 \(sha256:[0-9a-f]{64}\): foreign layer: .*not fetched.*its packages are not listed$/);
    assert.match(warnings[1]!, /x-1\.0\.jar.*unreadable/);
    // stderr says exactly the same, one line each, as before.
    const stderr = warnings.map((w) => `vouch: warning: ${w}\n`).join('');
    assert.equal(json.stderr, stderr);

    const cdxRun = await runCli(['sbom', ref, '--format', 'cyclonedx-json']);
    assert.equal(cdxRun.code, 0);
    assert.equal(cdxRun.stderr, stderr);
    const cdx = JSON.parse(cdxRun.stdout);
    assert.equal(await validateCdx(cdx), null);
    assert.deepEqual(
      cdx.metadata.properties.filter((p: { name: string }) => p.name === 'vouch:warning').map((p: { value: string }) => p.value),
      warnings,
    );
    assert.deepEqual(cdx.compositions, [{ aggregate: 'incomplete', assemblies: [cdx.metadata.component['bom-ref']] }]);
    assert.deepEqual(cdx.components.map((c: { name: string }) => c.name), ['curl']);

    const spdxRun = await runCli(['sbom', ref, '--format', 'spdx-json']);
    assert.equal(spdxRun.code, 0);
    assert.equal(spdxRun.stderr, stderr);
    const spdx = JSON.parse(spdxRun.stdout);
    assert.equal(validateSpdx(spdx), null);
    assert.deepEqual(spdx.creationInfo.comment.split('\n'), ['vouch: this inventory may be incomplete (2 warnings):', ...warnings.map((w) => `vouch:warning: ${w}`)]);

    const table = await runCli(['sbom', ref]);
    assert.equal(table.code, 0);
    assert.equal(table.stderr, stderr);

    // The image's bytes stay escaped in every document (as on stderr): visible, never raw.
    const strings = (v: unknown): string[] =>
      typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : [];
    for (const [name, texts] of [
      ['json', strings(JSON.parse(json.stdout))],
      ['cyclonedx', strings(cdx)],
      ['spdx', strings(spdx)],
      ['stderr', [stderr.replace(/\n/g, ' ')]],
    ] as const) {
      for (const s of texts) assert.doesNotMatch(s, RAW_CONTROL, `${name}: ${JSON.stringify(s)}`);
      assert.ok(texts.some((s) => s.includes('\\u009b31m\\u202ebase.tar.gz')), `${name}: the URL is shown escaped`);
      assert.ok(texts.some((s) => s.includes('app/\\x1b[2Jx-1.0.jar')), `${name}: the file name is shown escaped`);
    }
  });

  test('sbom: one warning without a foreign layer is still incomplete; an inventory without warnings claims nothing', async (t) => {
    // Every layer present: only the unreadable jar's warning is left. And an image with no warning at all.
    const ref = await foreignImage(t, false);
    const clean = await mkdtemp(join(tmpdir(), 'vouch-sbom-clean-'));
    t.after(() => rm(clean, { recursive: true, force: true }));
    const l = await writeLayersLayout(join(clean, 'layout'), [tar([{ name: 'var/lib/dpkg/', type: 'dir' }, { name: 'var/lib/dpkg/status', data: 'Package: curl\nStatus: install ok installed\nVersion: 8.5.0-2\nArchitecture: amd64\n\n' }])]);
    for (const r of [ref, l.ref]) {
      const cdxRun = await runCli(['sbom', r, '--format', 'cyclonedx-json']);
      const spdxRun = await runCli(['sbom', r, '--format', 'spdx-json']);
      assert.equal(cdxRun.code, 0);
      const cdx = JSON.parse(cdxRun.stdout);
      const spdx = JSON.parse(spdxRun.stdout);
      assert.equal(await validateCdx(cdx), null);
      assert.equal(validateSpdx(spdx), null);
      if (r === l.ref) {
        assert.equal(cdxRun.stderr, '');
        assert.equal(cdx.metadata.properties, undefined);
        assert.equal(cdx.compositions, undefined);
        assert.equal(spdx.creationInfo.comment, undefined);
      } else {
        // One warning (the jar), no foreign layer: still incomplete, and said once.
        assert.equal(cdx.metadata.properties.length, 1);
        assert.equal(cdx.compositions[0].aggregate, 'incomplete');
      }
    }
  });

  test('sbom: a digest vouch synthesised is a note in the documents, not a gap in the inventory', async () => {
    // dive's test image is a legacy `docker save`: no stored manifest, so vouch synthesises one.
    const ref = `docker-archive:${new URL('../fixtures/dive/test-docker-image.tar', import.meta.url).pathname}`;
    const cdxRun = await runCli(['sbom', ref, '--format', 'cyclonedx-json']);
    assert.equal(cdxRun.code, 0, cdxRun.stderr);
    const cdx = JSON.parse(cdxRun.stdout);
    assert.equal(await validateCdx(cdx), null);
    const notes = cdx.metadata.properties.filter((p: { name: string }) => p.name === 'vouch:note');
    assert.equal(notes.length, 1);
    assert.match(notes[0].value, /^the digest sha256:[0-9a-f]{64} is synthesised by vouch \(the archive stores no manifest\)/);
    const spdx = JSON.parse((await runCli(['sbom', ref, '--format', 'spdx-json'])).stdout);
    assert.equal(validateSpdx(spdx), null);
    assert.match(spdx.creationInfo.comment, /^vouch:note: the digest sha256:[0-9a-f]{64} is synthesised by vouch/m);
  });
});
