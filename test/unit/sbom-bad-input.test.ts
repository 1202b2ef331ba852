/**
 * Bad SBOMs: malformed and truncated JSON, unknown spec versions, duplicate
 * components, cyclic dependency graphs, oversized files, partly bad records.
 * Unusable input is a one-line SbomError (exit 2) naming the file (and record);
 * partly bad input keeps the good records and warns. (Any bytes give an
 * inventory or a VouchError: test/fuzz/targets/sbom.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, ftruncateSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSbom, readSbomFile, SbomError } from '../../src/core/packages/sbom/index.js';

const fx = (p: string): string => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'vouch-sbom-bad-'));

function fails(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof SbomError, String(e));
    assert.equal(e.exitCode, 2);
    assert.ok(!/[\r\n]/.test(e.message), 'one line');
    assert.match(e.message, re);
    return true;
  });
}

const cdx = (components: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1, components, ...extra });

test('malformed and truncated JSON: one line naming the file', () => {
  fails(() => parseSbom('{"bomFormat": "CycloneDX", "specVersion": ', 'x.cdx.json'), /^x\.cdx\.json: malformed JSON \(the file looks truncated\)/);
  fails(() => parseSbom('{"bomFormat": "CycloneDX",, }', 'y.json'), /^y\.json: malformed JSON: /);
  const juice = readFileSync(fx('cyclonedx-bom-examples/SBOM/juice-shop/via_npm/bare/bom.1.4.json'));
  fails(() => parseSbom(juice.subarray(0, juice.length / 2), 'half.json'), /^half\.json: malformed JSON \(the file looks truncated\)/);
  fails(() => parseSbom(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'bin.json'), /^bin\.json: not UTF-8 text/);
  fails(() => parseSbom('', 'empty.json'), /^empty\.json: empty file/);
  fails(() => parseSbom('[1,2]', 'arr.json'), /^arr\.json: not an SBOM: a JSON array/);
  fails(() => parseSbom('{"hello": 1}', 'obj.json'), /^obj\.json: not a recognised SBOM/);
});

test('unknown spec versions: refused, or read with a warning for a newer CycloneDX 1.x / SPDX 2.x', () => {
  fails(() => parseSbom(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '2.0', components: [] }), 'v2.json'), /^v2\.json: CycloneDX 2\.0 JSON: CycloneDX specVersion "2\.0" is not supported/);
  fails(() => parseSbom(JSON.stringify({ bomFormat: 'CycloneDX', components: [] }), 'nov.json'), /no specVersion/);
  fails(() => parseSbom(JSON.stringify({ spdxVersion: 'SPDX-3.0', packages: [] }), 's3.json'), /^s3\.json: SPDX 3\.0 JSON: spdxVersion "SPDX-3\.0" is not SPDX-2\.2 or SPDX-2\.3/);
  const newer = parseSbom(cdx([{ type: 'library', name: 'a', version: '1' }]).replace('"1.5"', '"1.8"'), 'v18.json');
  assert.equal(newer.packages.length, 1);
  assert.match(newer.warnings[0]!, /^v18\.json: CycloneDX 1\.8 is newer than 1\.7; read as 1\.7/);
  const spdx21 = parseSbom(JSON.stringify({ spdxVersion: 'SPDX-2.1', creationInfo: { creators: ['Tool: x'] }, packages: [{ SPDXID: 'SPDXRef-a', name: 'a' }] }), 's21.json');
  assert.equal(spdx21.packages.length, 1);
  assert.match(spdx21.warnings[0]!, /SPDX-2\.1 is not 2\.2 or 2\.3; read as 2\.3/);
});

test('duplicate components: warned and deduplicated', () => {
  const c = { type: 'library', 'bom-ref': 'a', name: 'a', version: '1', purl: 'pkg:npm/a@1' };
  const inv = parseSbom(cdx([c, c, { ...c, 'bom-ref': 'b' }, { type: 'library', name: 'z', version: '2' }]), 'dup.json');
  assert.deepEqual(inv.packages.map((p) => p.purl), ['pkg:generic/z@2', 'pkg:npm/a@1']);
  assert.equal(inv.warnings.length, 2);
  assert.match(inv.warnings[0]!, /^dup\.json: component bom-ref "a": duplicate bom-ref; deduplicated/);
  assert.match(inv.warnings[1]!, /^dup\.json: component bom-ref "b": duplicate of component bom-ref "a" \(a@1\); deduplicated/);
  const spdx = parseSbom(
    JSON.stringify({ spdxVersion: 'SPDX-2.3', creationInfo: { creators: ['Tool: x'] }, packages: [{ SPDXID: 'SPDXRef-a', name: 'a' }, { SPDXID: 'SPDXRef-a', name: 'a' }] }),
    'dup.spdx.json',
  );
  assert.equal(spdx.packages.length, 1);
  assert.match(spdx.warnings[0]!, /package SPDXRef-a: duplicate SPDXID/);
});

test('cyclic (and huge, and dangling) dependency graphs: no hang, no recursion', { timeout: 60_000 }, () => {
  const n = 50_000;
  const comps = Array.from({ length: n }, (_, i) => ({ type: 'library', 'bom-ref': `r${i}`, name: `p${i}`, version: '1' }));
  const deps = comps.map((_, i) => ({ ref: `r${i}`, dependsOn: [`r${(i + 1) % n}`, 'r0', 'ghost'] }));
  const inv = parseSbom(cdx(comps, { dependencies: deps }), 'cycle.json');
  assert.equal(inv.packages.length, n);
  assert.equal(inv.warnings.length, 1);
  assert.match(inv.warnings[0]!, /dependencies: 50000 reference\(s\) to unknown bom-refs \(first: "ghost"\)/);
});

test('deeply nested components are flattened without recursion', () => {
  const depth = 5000;
  const open = '{"type":"library","name":"n","version":"1","components":['.repeat(depth);
  const text = `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[${open}{"type":"library","name":"leaf"}${']}'.repeat(depth)}]}`;
  const inv = parseSbom(text, 'deep.json');
  assert.equal(inv.records, depth + 1);
  assert.equal(inv.packages.length, 2, "identical records deduplicated");
  // deeper than JSON.parse itself goes: still an SbomError, not a crash
  const d2 = 200_000;
  try {
    parseSbom(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[${'{"name":"n","components":['.repeat(d2)}${']}'.repeat(d2)}]}`, 'deeper.json');
  } catch (e) {
    assert.ok(e instanceof SbomError, String(e));
  }
});

test('a 200 MB SBOM is refused before it is read (size limit), naming the file', async () => {
  const p = join(tmp, 'huge.cdx.json');
  const fd = openSync(p, 'w');
  ftruncateSync(fd, 200 * 1024 * 1024); // sparse: no disk, no memory
  closeSync(fd);
  const before = process.memoryUsage().rss;
  await assert.rejects(readSbomFile(p), (e: unknown) => {
    assert.ok(e instanceof SbomError && e.kind === 'too-large');
    assert.equal(e.exitCode, 2);
    assert.match(e.message, new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: SBOM is 200\\.0 MiB, above the 128\\.0 MiB limit`));
    return true;
  });
  assert.ok(process.memoryUsage().rss - before < 50 * 1024 * 1024, 'nothing was read');
  fails(() => parseSbom('{"bomFormat":"CycloneDX"}', 'small.json', { maxBytes: 10 }), /^small\.json: SBOM is .* above the/);
});

test('only some records bad: the rest comes out, each bad record warned by bom-ref / SPDXID / id', () => {
  const inv = parseSbom(
    cdx([
      { type: 'library', 'bom-ref': 'ok', name: 'ok', version: '1', purl: 'pkg:npm/ok@1', licenses: 'MIT' },
      { type: 'library', 'bom-ref': 'noname', version: '1' },
      42,
      { type: 'library', 'bom-ref': 'badpurl', name: 'bp', version: '1', purl: 'pkg:' },
    ]),
    'partial.json',
  );
  assert.deepEqual(inv.packages.map((p) => p.name), ['bp', 'ok']);
  assert.deepEqual(
    inv.warnings.map((w) => w.replace(/^partial\.json: /, '')),
    [
      'component bom-ref "ok": "licenses" is a string, expected an array; ignored',
      'component bom-ref "noname": no "name"; skipped',
      'components[2]: a number, expected a component object; skipped',
      'component bom-ref "badpurl": invalid purl "pkg:"; using a synthesised one',
    ],
  );
  fails(() => parseSbom(cdx([1, 2]), 'allbad.json'), /^allbad\.json: no usable component: every one of 2 is malformed \(first: components\[0\]\)/);

  const spdx = parseSbom(
    JSON.stringify({
      spdxVersion: 'SPDX-2.3',
      creationInfo: { creators: ['Tool: x'] },
      packages: [{ SPDXID: 'SPDXRef-good', name: 'g' }, { SPDXID: 'SPDXRef-bad', packageName: 'b' }, { SPDXID: 'SPDXRef-fa', name: 'f', filesAnalyzed: 'false' }],
    }),
    'p.spdx.json',
  );
  assert.deepEqual(spdx.packages.map((p) => p.name), ['g']);
  assert.match(spdx.warnings[0]!, /^p\.spdx\.json: package SPDXRef-bad: no "name" \(found "packageName", which is not an SPDX JSON field\); skipped/);
  assert.match(spdx.warnings[1]!, /^p\.spdx\.json: package SPDXRef-fa: "filesAnalyzed" is a string "false", expected true or false; skipped/);

  const syft = parseSbom(JSON.stringify({ schema: { version: '16.0.0' }, artifacts: [{ id: 'x', name: 'a', version: '1', type: 'npm' }, { id: 'y' }] }), 's.json');
  assert.deepEqual(syft.packages.map((p) => p.purl), ['pkg:npm/a@1']);
  assert.match(syft.warnings[0]!, /^s\.json: artifact id "y": no "name"; skipped/);
});

test('warnings are capped', () => {
  const inv = parseSbom(cdx([{ type: 'library', name: 'ok' }, ...Array.from({ length: 1000 }, () => 7)]), 'many.json');
  assert.equal(inv.warnings.length, 201);
  assert.match(inv.warnings[200]!, /… and 800 more warnings/);
});

test('in-toto Statement and DSSE envelope around an SBOM are unwrapped', () => {
  const doc = JSON.parse(readFileSync(fx('syft/examples/decode_sbom/alpine.syft.json'), 'utf8'));
  const spdx = JSON.parse(readFileSync(fx('spdx-spec/SPDXJSONExample-v2.3.spdx.json'), 'utf8'));
  const st = { _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'https://spdx.dev/Document', predicate: spdx };
  assert.equal(parseSbom(JSON.stringify(st), 'att').packages.length, 4);
  const env = { payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(JSON.stringify({ ...st, predicate: doc, predicateType: 'x' })).toString('base64'), signatures: [] };
  assert.equal(parseSbom(JSON.stringify(env), 'dsse').packages.length, 14);
});

const seeds = [
  'cyclonedx-bom-examples/SBOM/laravel-7.12.0/bom.1.4.json',
  'spdx-spec/SPDXJSONExample-v2.3.spdx.json',
  'syft/examples/decode_sbom/alpine.syft.json',
  'syft/syft/format/testdata/alpine-syft.json',
].map((p) => JSON.parse(readFileSync(fx(p), 'utf8')) as Record<string, unknown>);

// Any bytes, any JSON value, mutated and truncated documents → an inventory or a VouchError: the fuzz
// targets sbom-cyclonedx, sbom-spdx, sbom-syft and sbom-vouch-json (test/fuzz/targets/sbom.ts).

test('a fixture written to disk reads back through readSbomFile (sanity)', () => {
  writeFileSync(join(tmp, 'ok.json'), JSON.stringify(seeds[0]));
  return readSbomFile(join(tmp, 'ok.json')).then((inv) => assert.equal(inv.packages.length, 62));
});
