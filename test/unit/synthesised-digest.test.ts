/** Issue 9 item 12: a synthesised digest carries a caveat in chain and check (text and JSON). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/inspect.js';
import { writeMiniLayout } from '../helpers/mini-layout.js';

// dive's test image is a legacy `docker save`: no stored manifest, so vouch synthesises one.
const ref = `docker-archive:${new URL('../fixtures/dive/test-docker-image.tar', import.meta.url).pathname}`;
const CAVEAT = /is synthesised by vouch \(the archive stores no manifest\): signatures and attestations are looked up by the registry digest, so none found here is not a verdict/;

test('chain: text and JSON say the digest is synthesised', async () => {
  const t = await runCli(['chain', ref]);
  assert.match(t.stdout, new RegExp(`note\\s+the digest sha256:[0-9a-f]{64} ${CAVEAT.source}`));
  const j = JSON.parse((await runCli(['chain', ref, '--json'])).stdout);
  assert.match(j.image.caveat, CAVEAT);
  assert.deepEqual(Object.keys(j).sort(), ['approvals', 'attestations', 'image', 'index', 'provenance', 'signatures', 'traceability', 'trust', 'warnings']);
});

test('check: the caveat is a warning on stderr and in the JSON', async () => {
  const j = await runCli(['check', ref, '--format', 'json']);
  assert.ok(JSON.parse(j.stdout).warnings.some((w: string) => CAVEAT.test(w)));
  const t = await runCli(['check', ref]);
  assert.match(t.stderr, CAVEAT);
});

test('an image with a stored manifest has no caveat', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-real-digest-'));
  await writeMiniLayout(dir, { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }] });
  const j = JSON.parse((await runCli(['chain', `oci:${dir}:v1`, '--json'])).stdout);
  assert.equal(j.image.caveat, undefined);
  assert.deepEqual(JSON.parse((await runCli(['check', `oci:${dir}:v1`, '--format', 'json'])).stdout).warnings, []);
});
