/** Issue 9 item 9: SARIF locations built from the parsed reference, within GitHub code scanning's artifactLocation rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { terminalSafeJson } from '../../src/core/util/sanitize.js';
import { defaultRegistry, toSarif, type CheckResult, type Subject } from '../../src/core/checks/index.js';

const D = `sha256:${'ab'.repeat(32)}`;
const subject = (image: string, path: string | null): Subject => ({ image, layer: null, path, env: path ? null : 'API_TOKEN', package: null, signature: null });
const result = (image: string, path: string | null): CheckResult => ({ id: path ? 'VCH-LP-002' : 'VCH-LP-007', step: 'least-privilege', severity: 'high', status: 'fail', subject: subject(image, path), message: 'm', exception: null });

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** RFC 3986 URI-reference characters, with %-escapes well formed. */
const URI_CHARS = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#[\]]|%[0-9A-Fa-f]{2})*$/;

/**
 * GitHub code scanning's rules for artifactLocation (docs "SARIF support for code scanning", and the
 * upload's "unrecognized SARIF location URI scheme" / "expected artifact location" refusals):
 * a non-empty uri on every result; a relative path (no scheme, no leading slash, no dot segments) —
 * absolute URIs of another scheme are refused; a uriBaseId only with a relative uri, and then the base
 * is an absolute URI ending in "/" in originalUriBaseIds.
 */
function assertGitHubArtifactLocations(doc: any): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const run = doc.runs[0];
  for (const [id, b] of Object.entries(run.originalUriBaseIds as Record<string, { uri: string }>)) {
    assert.match(b.uri, SCHEME, `${id} base is absolute`);
    assert.ok(b.uri.endsWith('/'), `${id} base ends in /`);
    assert.match(b.uri, URI_CHARS, b.uri);
    assert.doesNotThrow(() => new URL(b.uri));
  }
  for (const r of run.results) {
    const loc = r.locations?.[0]?.physicalLocation?.artifactLocation;
    assert.ok(loc && typeof loc.uri === 'string' && loc.uri.length > 0, 'non-empty artifactLocation.uri');
    assert.doesNotMatch(loc.uri, SCHEME, `relative: ${loc.uri}`);
    assert.ok(!loc.uri.startsWith('/') && !/(^|\/)\.\.?(\/|$)/.test(loc.uri), loc.uri);
    assert.match(loc.uri, URI_CHARS, loc.uri);
    if (loc.uriBaseId !== undefined) assert.ok(run.originalUriBaseIds[loc.uriBaseId], `base ${loc.uriBaseId} declared`);
  }
}

const CASES: Array<{ reference: string; label: string; base: string; imagePath: string }> = [
  { reference: 'oci:/tmp/layouts/app:latest', label: `app:latest@${D}`, base: `oci:///tmp/layouts/app@${D}/`, imagePath: 'app' },
  { reference: `docker://127.0.0.1:5000/team/app@${D}`, label: `127.0.0.1:5000/team/app@${D}`, base: `oci://127.0.0.1:5000/team/app@${D}/`, imagePath: 'team/app' },
  { reference: 'docker://localhost:5000/app:latest', label: `localhost:5000/app:latest@${D}`, base: `oci://localhost:5000/app@${D}/`, imagePath: 'app' },
  { reference: 'docker-archive:/srv/images/my img.tar', label: `my img.tar@${D}`, base: `oci:///srv/images/my%20img.tar@${D}/`, imagePath: 'my%20img.tar' },
  { reference: 'docker-daemon:alpine:3.20', label: `docker.io/library/alpine:3.20@${D}`, base: `oci://docker.io/library/alpine@${D}/`, imagePath: 'library/alpine' },
];

for (const c of CASES) {
  test(`SARIF for ${c.reference}: base ${c.base}, image-level results at ${c.imagePath}`, () => {
    const set = { policy: { digest: D }, trust: null, warnings: [], results: [result(c.label, '/usr/local/bin/evil tool'), result(c.label, null)] };
    const doc = toSarif(set, defaultRegistry(), { toolVersion: '1.0.0', images: [{ label: c.label, reference: c.reference }] }) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    assertGitHubArtifactLocations(doc);
    const run = doc.runs[0];
    assert.equal(run.originalUriBaseIds.IMAGE0.uri, c.base);
    assert.deepEqual(run.results[0].locations[0].physicalLocation.artifactLocation, { uri: 'usr/local/bin/evil%20tool', uriBaseId: 'IMAGE0' });
    assert.deepEqual(run.results[1].locations[0].physicalLocation.artifactLocation, { uri: c.imagePath });
    // The file's URI resolves under the image's base, digest intact as one readable segment.
    assert.equal(new URL(run.results[0].locations[0].physicalLocation.artifactLocation.uri, c.base).href, `${c.base}usr/local/bin/evil%20tool`);
    assert.ok(!run.originalUriBaseIds.IMAGE0.uri.includes('%3A') && !run.originalUriBaseIds.IMAGE0.uri.includes('%40'));
  });
}

test('SARIF without a reference: the name is a path, never a scheme ("latest" is not where image results point)', () => {
  const label = `app:latest@${D}`;
  const doc = toSarif({ policy: { digest: D }, trust: null, warnings: [], results: [result(label, null)] }, defaultRegistry(), { toolVersion: '1', images: [{ label }] }) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  assertGitHubArtifactLocations(doc);
  assert.equal(doc.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri, 'app%3Alatest');
});

test('SARIF for a file name that is not UTF-8: the original bytes percent-encoded, two names stay two URIs (a hostile name must not break the upload)', () => {
  const label = `app:latest@${D}`;
  // Paths keep tar bytes that are not UTF-8 as lone surrogates U+DC80..U+DCFF (path-bytes.ts).
  const paths = ['/usr/bin/tool\udcff', '/usr/bin/tool\udcfe', '/usr/bin/caf\u00e9 \udc80x'];
  const set = { policy: { digest: D }, trust: null, warnings: [], results: paths.map((p) => result(label, p)) };
  const doc = toSarif(set, defaultRegistry(), { toolVersion: '1', images: [{ label, reference: 'oci:/tmp/app:latest' }] }) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  assertGitHubArtifactLocations(doc);
  const uris = doc.runs[0].results.map((r: any) => r.locations[0].physicalLocation.artifactLocation.uri); // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(uris, ['usr/bin/tool%FF', 'usr/bin/tool%FE', 'usr/bin/caf%C3%A9%20%80x']);
  // As the CLI writes it (terminalSafeJson), well-formed JSON: no lone surrogate anywhere; the message shows \xff.
  assert.doesNotMatch(terminalSafeJson(doc), /\\ud[c-f][0-9a-f]{2}/i);
  const subject = JSON.parse(terminalSafeJson(doc)).runs[0].results[0].properties.subject;
  assert.deepEqual([subject.path, subject.pathBytes], ['/usr/bin/tool\\xff', Buffer.from([...Buffer.from('/usr/bin/tool'), 0xff]).toString('base64')]);
  // Fingerprints hash the bytes: two names that are not UTF-8 are two alerts.
  const fps = doc.runs[0].results.map((r: any) => r.partialFingerprints['vouchSubject/v1']); // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(new Set(fps).size, 3);
});
