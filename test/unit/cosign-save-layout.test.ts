/** Issue 9 item 13: a `cosign save` layout (image index + .sig/.att manifests in index.json) works in inspect, sbom and check. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { runCli } from '../helpers/inspect.js';

test('cosign save layout: inspect, sbom and check pick the image cosign designates', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'vouch-cosign-save-')), 'saved');
  const lay = await writeMiniLayout(dir, { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }] });
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const top = index.manifests[0];
  // What `cosign save` writes: no ref names, the image index plus its signature and attestation manifests, each by kind.
  const other = lay.images[1]!;
  index.manifests = [
    { mediaType: top.mediaType, digest: top.digest, size: top.size, annotations: { kind: 'dev.cosignproject.cosign/imageIndex' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: other.manifestDigest, size: other.manifestSize, annotations: { kind: 'dev.cosignproject.cosign/sigs' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: lay.images[0]!.manifestDigest, size: lay.images[0]!.manifestSize, annotations: { kind: 'dev.cosignproject.cosign/atts' } },
  ];
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  const i = await runCli(['inspect', `oci:${dir}`, '--json', '--platform', 'linux/amd64']);
  assert.equal(i.code, 0, i.stderr);
  const a = JSON.parse(i.stdout);
  assert.equal(a.digest, lay.images[0]!.manifestDigest);
  assert.equal(a.index.digest, lay.indexDigest);
  const bare = await runCli(['inspect', dir, '--json', '--platform', 'linux/amd64']);
  assert.equal(bare.code, 0, bare.stderr);
  const s = await runCli(['sbom', `oci:${dir}`, '--json', '--platform', 'linux/amd64']);
  assert.equal(s.code, 0, s.stderr);
  const c = await runCli(['check', `oci:${dir}`, '--format', 'json', '--platform', 'linux/amd64']);
  assert.ok(c.code === 0 || c.code === 1, c.stderr);
  assert.ok(JSON.parse(c.stdout).results.length > 0);
});
