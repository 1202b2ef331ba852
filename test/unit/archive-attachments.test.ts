/**
 * Attachments inside archives: a `cosign save` layout (image, `.sig` manifest
 * with `kind` annotations) tarred into an oci-archive is verified by `vouch
 * chain` as the directory layout is; a signature over another image in the
 * same archive does not count.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyChain } from '../../src/core/trust/chain.js';
import { parseTrustFile, type TrustFile } from '../../src/core/trust/trust-file.js';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { signatureLayer, signWithKey, simpleSigningPayload } from '../helpers/cosign-sign.js';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
let dir: string;
let archive: string;
let imageDigest: string;
let trust: TrustFile;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-archive-att-'));
  const layout = join(dir, 'layout');
  const mini = await writeMiniLayout(layout, { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }] });
  const img = mini.images[0]!;
  imageDigest = img.manifestDigest;
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const blob = async (b: Buffer): Promise<{ digest: string; size: number }> => {
    const digest = sha256(b);
    await writeFile(join(layout, 'blobs', 'sha256', digest.slice(7)), b);
    return { digest, size: b.length };
  };
  // cosign's signature image: one simple-signing layer per signature; a good one and one for another digest.
  const good = simpleSigningPayload('example.test/app', imageDigest);
  const other = simpleSigningPayload('example.test/app', `sha256:${'cd'.repeat(32)}`);
  const layers = [signatureLayer(good, signWithKey(key.privateKey, good)), signatureLayer(other, signWithKey(key.privateKey, other))];
  const config = await blob(Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.bytes)) } })));
  const descs = [];
  for (const l of layers) descs.push({ mediaType: l.mediaType, ...(await blob(l.bytes)), annotations: l.annotations });
  const sigManifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: descs }));
  const sig = await blob(sigManifest);
  // index.json as `cosign save` writes it: entries by kind, no ref names.
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.manifestDigest, size: img.manifestSize, annotations: { kind: 'dev.cosignproject.cosign/image' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...sig, annotations: { kind: 'dev.cosignproject.cosign/sigs' } },
      ],
    }),
  );
  archive = join(dir, 'saved.tar');
  execFileSync('tar', ['-cf', archive, '-C', layout, '.']);
  await writeFile(join(dir, 'cosign.pub'), key.publicKey.export({ format: 'pem', type: 'spki' }));
  trust = await parseTrustFile('signers:\n  - {name: release-key, key: ./cosign.pub, tlog: optional}\n', join(dir, 'vouch.trust.yaml'));
  assert.ok((await readFile(archive)).length > 0);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a `cosign save` layout inside an oci-archive: its signature verifies, the one for another digest is SUBJECT_MISMATCH', async () => {
  const r = await verifyChain(`oci-archive:${archive}`, { trust });
  assert.equal(r.json.image.digest, imageDigest);
  assert.deepEqual(
    r.json.signatures.map((s) => [s.reason, s.signer?.trustedAs ?? null]),
    [
      ['OK', 'release-key'],
      ['SUBJECT_MISMATCH', null],
    ],
  );
  assert.deepEqual(r.attachments.map((a) => a.via), ['cosign-save']);
  // The same layout as a directory gives the same answer.
  const d = await verifyChain(`oci:${join(dir, 'layout')}`, { trust });
  assert.deepEqual(d.json.signatures.map((s) => s.reason), ['OK', 'SUBJECT_MISMATCH']);
});
