/**
 * SBOM documents: CycloneDX JSON, SPDX 2.x JSON, syft JSON and vouch's own
 * `vouch sbom --json`, each generated from its structure (nested components,
 * relationships, locations, licences), read from real fixtures, wrapped in
 * in-toto statements and DSSE envelopes, then mutated. Folds in the property
 * test/unit/sbom-bad-input.test.ts had (its seeds are the fixtures here).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseSbom } from '../../../src/core/packages/sbom/index.js';
import { fuzzTarget, typedError } from '../harness.js';
import { jsonBytes, mutateJson, mutateString } from '../mutate.js';

const fixture = (p: string): unknown => JSON.parse(readFileSync(fileURLToPath(new URL(`../../fixtures/${p}`, import.meta.url)), 'utf8'));

const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
const version = fc.oneof(fc.stringMatching(/^\d{1,3}(\.\d{1,3}){0,3}(-r\d)?$/), fc.constantFrom('', '1:2.3-4ubuntu1', 'v1.2.3+incompatible', '*'));
const purlType = fc.constantFrom('npm', 'deb', 'apk', 'rpm', 'pypi', 'golang', 'maven', 'generic');
const purl = fc
  .tuple(purlType, fc.option(word, { nil: undefined }), word, version, fc.option(fc.constantFrom('arch=amd64', 'distro=alpine-3.19', 'epoch=1'), { nil: undefined }))
  .map(([t, ns, n, v, q]) => `pkg:${t}/${ns ? `${ns}/` : ''}${n}${v ? `@${encodeURIComponent(v)}` : ''}${q ? `?${q}` : ''}`);
const licence = fc.constantFrom('MIT', 'Apache-2.0', 'GPL-2.0-only OR MIT', 'LicenseRef-x', 'NOASSERTION', '(MIT AND BSD-3-Clause)', 'not a licence (');

type Component = { type: string; 'bom-ref': string; name: string; version?: string; purl?: string; licenses?: unknown[]; components?: Component[] };
const component: fc.Arbitrary<Component> = fc.letrec<{ c: Component }>((tie) => ({
  c: fc.record(
    {
      type: fc.constantFrom('library', 'application', 'framework', 'operating-system', 'container', 'file'),
      'bom-ref': word,
      name: word,
      version,
      purl,
      licenses: fc.array(fc.oneof(licence.map((id) => ({ license: { id } })), licence.map((expression) => ({ expression })), licence.map((name) => ({ license: { name } }))), { maxLength: 2 }),
      components: fc.array(tie('c'), { maxLength: 2, depthIdentifier: 'cdx' }),
    },
    { requiredKeys: ['type', 'bom-ref', 'name'] },
  ),
})).c;
const cycloneDx = fc
  .record({ specVersion: fc.constantFrom('1.2', '1.3', '1.4', '1.5', '1.6', '1.7', '1.8'), components: fc.array(component, { maxLength: 5 }), deps: fc.array(fc.tuple(word, fc.array(word, { maxLength: 3 })), { maxLength: 4 }) })
  .map(({ specVersion, components, deps }) => ({
    bomFormat: 'CycloneDX',
    specVersion,
    version: 1,
    metadata: { component: { type: 'container', name: 'img', version: 'sha256:' + 'a'.repeat(64) } },
    components,
    dependencies: deps.map(([ref, dependsOn]) => ({ ref, dependsOn })),
  }));

const spdx = fc
  .record({
    v: fc.constantFrom('SPDX-2.2', 'SPDX-2.3', 'SPDX-2.1'),
    pkgs: fc.array(fc.record({ name: word, versionInfo: version, licenseConcluded: licence, licenseDeclared: licence, purl: fc.option(purl, { nil: undefined }) }), { maxLength: 5 }),
    rels: fc.array(fc.tuple(fc.nat(6), fc.constantFrom('CONTAINS', 'DEPENDS_ON', 'DESCRIBES', 'OTHER'), fc.nat(6)), { maxLength: 5 }),
  })
  .map(({ v, pkgs, rels }) => ({
    spdxVersion: v,
    SPDXID: 'SPDXRef-DOCUMENT',
    dataLicense: 'CC0-1.0',
    name: 'doc',
    documentNamespace: 'https://example.com/doc',
    creationInfo: { created: '2024-01-01T00:00:00Z', creators: ['Tool: fuzz'] },
    documentDescribes: pkgs.length ? ['SPDXRef-0'] : [],
    packages: pkgs.map((p, i) => ({
      SPDXID: `SPDXRef-${i}`,
      name: p.name,
      versionInfo: p.versionInfo,
      licenseConcluded: p.licenseConcluded,
      licenseDeclared: p.licenseDeclared,
      downloadLocation: 'NOASSERTION',
      ...(p.purl ? { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }] } : {}),
    })),
    relationships: rels.map(([a, t, b]) => ({ spdxElementId: a === 6 ? 'SPDXRef-DOCUMENT' : `SPDXRef-${a}`, relationshipType: t, relatedSpdxElement: `SPDXRef-${b}` })),
  }));

const syft = fc
  .array(fc.record({ name: word, version, type: fc.constantFrom('apk', 'deb', 'rpm', 'npm', 'python', 'go-module', 'java-archive', 'binary'), purl, licenses: fc.array(fc.oneof(licence, licence.map((value) => ({ value, spdxExpression: value, type: 'declared' }))), { maxLength: 2 }), path: fc.constantFrom('/lib/apk/db/installed', '/usr/lib/x', 'rel/path') }), { maxLength: 5 })
  .map((arts) => ({
    artifacts: arts.map((a, i) => ({ id: String(i), name: a.name, version: a.version, type: a.type, purl: a.purl, licenses: a.licenses, locations: [{ path: a.path, layerID: 'sha256:' + 'b'.repeat(64) }] })),
    artifactRelationships: [],
    source: { type: 'image', target: { imageID: 'sha256:' + 'c'.repeat(64) } },
    distro: { id: 'alpine', versionID: '3.19' },
    descriptor: { name: 'syft', version: '1.0.0' },
    schema: { version: '16.0.0', url: 'https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-16.0.0.json' },
  }));

const vouchJson = fc
  .record({
    source: fc.constantFrom('catalog', 'attached', 'file'),
    distro: fc.option(fc.record({ id: word, versionId: version }), { nil: null }),
    packages: fc.array(fc.record({ name: word, version, type: purlType, purl, licenses: fc.array(licence, { maxLength: 2 }), locations: fc.array(fc.record({ path: fc.constantFrom('/a', '/usr/lib/x'), layer: fc.constant('sha256:' + 'd'.repeat(64)) }), { maxLength: 2 }) }), { maxLength: 5 }),
  });

/** A document as a file, an in-toto statement's predicate, or a DSSE envelope's payload. */
function wrapped(doc: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: doc },
    { weight: 1, arbitrary: doc.map((predicate) => ({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'https://cyclonedx.org/bom', predicate })) },
    {
      weight: 1,
      arbitrary: doc.map((d) => ({
        payloadType: 'application/vnd.in-toto+json',
        payload: Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'x', predicate: d })).toString('base64'),
        signatures: [],
      })),
    },
  );
}

function run(bytes: Uint8Array): void {
  const inv = parseSbom(bytes, 'fuzz.json');
  // What every consumer relies on: named packages with purls.
  for (const p of inv.packages) if (typeof p.name !== 'string' || typeof p.purl !== 'string' || !p.purl.startsWith('pkg:')) throw new Error(`package without a usable purl: ${JSON.stringify(p)}`);
}

const show = (b: Uint8Array) => JSON.stringify(Buffer.from(b).toString('utf8'));

function sbomTarget(name: string, format: string, generated: fc.Arbitrary<unknown>, fixtures: string[], ciRuns: number) {
  const real = fixtures.map(fixture);
  const docs = real.length ? fc.oneof(generated, fc.constantFrom(...real)) : generated;
  const text = docs.map((d) => JSON.stringify(d));
  return fuzzTarget({
    name,
    entry: `packages/sbom parseSbom → ${format}`,
    arbitrary: fc.oneof(
      { weight: 6, arbitrary: jsonBytes(wrapped(docs)) },
      { weight: 1, arbitrary: fc.tuple(text, fc.nat()).map(([t, n]) => Buffer.from(t.slice(0, n % (t.length + 1)))) },
      { weight: 1, arbitrary: mutateString(text).map((t) => Buffer.from(t)) },
      { weight: 1, arbitrary: mutateJson(mutateJson(docs)).map((d) => Buffer.from(JSON.stringify(d) ?? 'null')) },
    ),
    run,
    isExpectedError: typedError(),
    ciRuns,
    show,
  });
}

export const sbomCycloneDx = sbomTarget('sbom-cyclonedx', 'sbom/cyclonedx.ts readCycloneDx', cycloneDx, ['syft/syft/format/cyclonedxjson/testdata/identify/1.6.json', 'syft/syft/format/cyclonedxjson/testdata/identify/micronaut-1.4.json', 'cyclonedx-bom-examples/VEX/bom.json'], 250);
export const sbomSpdx = sbomTarget('sbom-spdx', 'sbom/spdx.ts readSpdx', spdx, ['syft/syft/format/spdxjson/testdata/identify/2.3.json', 'syft/syft/format/spdxjson/testdata/identify/3.0.json', 'spdx-spec/SPDXJSONExample-v2.2.spdx.json'], 400);
export const sbomSyft = sbomTarget('sbom-syft', 'sbom/syft.ts readSyft', syft, ['syft/syft/format/testdata/alpine-syft.json'], 150);
export const sbomVouch = sbomTarget('sbom-vouch-json', 'sbom/vouch-json.ts readVouchJson', vouchJson, [], 400);
