/**
 * docker-archive (manifest.json, repositories, config and layer members, Docker 25+
 * hybrid saves) and oci-archive (oci-layout, index.json, blobs): a generated
 * archive, valid or mutated, is written to a temp file and opened as the CLI
 * would, then every layer is walked (verified, decompressed, tar-parsed).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { openDockerArchive, openOciArchive } from '../../../src/core/sources/archive.js';
import { walkLayer } from '../../../src/core/layers/walk.js';
import { MediaType } from '../../../src/core/oci/mediatypes.js';
import { sha256, tar, type EntrySpec } from '../../helpers/tar-writer.js';
import { fuzzTarget, typedError } from '../harness.js';
import { mutateBytes, mutateJson, mutateString } from '../mutate.js';

// One shared folder; each case's file is removed when the case ends (workers are terminated, so no exit hook).
const dir = join(tmpdir(), 'vouch-fuzz-archives');
mkdirSync(dir, { recursive: true });
let seq = 0;

async function openAndWalk(bytes: Uint8Array, open: (file: string) => Promise<{ layers: readonly Parameters<typeof walkLayer>[0][]; close(): Promise<void> }>) {
  const file = join(dir, `${process.pid}-${threadId}-${seq++}.tar`);
  writeFileSync(file, bytes);
  try {
    const img = await open(file);
    try {
      for (const l of img.layers) await walkLayer(l);
    } finally {
      await img.close();
    }
  } finally {
    rmSync(file, { force: true });
  }
}

const hex = (b: Buffer) => sha256(b).slice(7);
const name = fc.stringMatching(/^[a-z0-9]{1,8}(\/[a-z0-9]{1,8})?$/);
const tagArb = fc.tuple(name, fc.stringMatching(/^[a-z0-9.]{1,6}$/)).map(([n, t]) => `${n}:${t}`);
const layerTar = fc
  .array(fc.record({ name: fc.stringMatching(/^[a-z]{1,6}(\/[a-z]{1,6}){0,2}$/), data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) }), { maxLength: 3 })
  .map((files) => tar(files));

/** The pieces of one image, as members; JSON documents kept as values so they can be mutated. */
interface Members {
  docs: Record<string, unknown>;
  blobs: Record<string, Buffer>;
  links: Array<[string, string]>;
}

function toTar(m: Members, order: number): Buffer {
  const specs: EntrySpec[] = [
    ...Object.entries(m.docs).map(([n, v]) => ({ name: n, data: Buffer.from(JSON.stringify(v) ?? 'null') })),
    ...Object.entries(m.blobs).map(([n, b]) => ({ name: n, data: b })),
    ...m.links.map(([n, to]) => ({ name: n, type: 'symlink' as const, linkname: to })),
  ];
  // The reader must not depend on member order.
  if (order % 2) specs.reverse();
  return tar(specs);
}

const dockerArchive = fc
  .record({
    layers: fc.array(fc.tuple(layerTar, fc.boolean()), { maxLength: 3 }),
    tags: fc.array(tagArb, { maxLength: 2 }),
    legacy: fc.boolean(),
    hybrid: fc.boolean(),
    symlinkLayer: fc.boolean(),
  })
  .map(({ layers, tags, legacy, hybrid, symlinkLayer }): Members => {
    let stored = layers.map(([t, gz]) => ({ t, b: gz ? gzipSync(t) : t }));
    // docker save stores a repeated layer once and links the others to it.
    if (legacy && symlinkLayer) stored = stored.map(() => stored[0]!);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: stored.map((l) => sha256(l.t)) } }));
    const blobs: Record<string, Buffer> = {};
    const links: Array<[string, string]> = [];
    const layerNames = stored.map((l, i) => {
      if (legacy) {
        const n = `${hex(l.b).slice(0, 60)}${i}/layer.tar`;
        if (symlinkLayer && i > 0) links.push([n, `../${hex(stored[0]!.b).slice(0, 60)}0/layer.tar`]);
        else blobs[n] = l.b;
        return n;
      }
      blobs[`blobs/sha256/${hex(l.b)}`] = l.b;
      return `blobs/sha256/${hex(l.b)}`;
    });
    const configName = legacy ? `${hex(config)}.json` : `blobs/sha256/${hex(config)}`;
    blobs[configName] = config;
    const docs: Record<string, unknown> = {
      'manifest.json': [{ Config: configName, RepoTags: tags, Layers: layerNames }],
      repositories: Object.fromEntries(tags.map((t) => [t.split(':')[0], { [t.split(':')[1]!]: hex(config) }])),
    };
    if (hybrid && !legacy) {
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OciManifest,
          config: { mediaType: MediaType.OciConfig, digest: sha256(config), size: config.length },
          layers: stored.map((l, i) => ({ mediaType: layers[i]![1] ? MediaType.OciLayerGzip : MediaType.OciLayer, digest: sha256(l.b), size: l.b.length })),
        }),
      );
      blobs[`blobs/sha256/${hex(manifest)}`] = manifest;
      docs['index.json'] = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: sha256(manifest), size: manifest.length }] };
      docs['oci-layout'] = { imageLayoutVersion: '1.0.0' };
    }
    return { docs, blobs, links };
  });

const ociArchive = fc
  .record({ layers: fc.array(fc.tuple(layerTar, fc.constantFrom('gzip', 'none')), { minLength: 1, maxLength: 3 }), tag: fc.option(tagArb, { nil: undefined }), nested: fc.boolean() })
  .map(({ layers, tag, nested }): Members => {
    const stored = layers.map(([t, c]) => ({ t, b: c === 'gzip' ? gzipSync(t) : t, c }));
    const blobs: Record<string, Buffer> = {};
    const put = (b: Buffer) => ((blobs[`blobs/sha256/${hex(b)}`] = b), { digest: sha256(b), size: b.length });
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: stored.map((l) => sha256(l.t)) } }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, ...put(config) },
        layers: stored.map((l) => ({ mediaType: l.c === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayer, ...put(l.b) })),
      }),
    );
    let top = { mediaType: MediaType.OciManifest, ...put(manifest), platform: { os: 'linux', architecture: 'amd64' } } as Record<string, unknown>;
    if (nested) {
      const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [top] }));
      top = { mediaType: MediaType.OciIndex, ...put(idx) };
    }
    if (tag) top.annotations = { 'org.opencontainers.image.ref.name': tag };
    return { docs: { 'index.json': { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [top] }, 'oci-layout': { imageLayoutVersion: '1.0.0' } }, blobs, links: [] };
  });

/** The archive's bytes and the digests it stores (to select an image by digest). */
interface ArchiveCase {
  bytes: Uint8Array;
  digests: string[];
}

const digestsOf = (m: Members) => Object.keys(m.blobs).flatMap((n) => (/^blobs\/sha256\/[0-9a-f]{64}$/.test(n) ? [`sha256:${n.slice(13)}`] : []));

/** Valid archive; one JSON document mutated; a member's bytes damaged; a hostile link; or the tar's bytes damaged. */
function archiveBytes(valid: fc.Arbitrary<Members>): fc.Arbitrary<ArchiveCase> {
  const withDocMutation = fc.tuple(valid, fc.nat()).chain(([m, k]) => {
    const keys = Object.keys(m.docs);
    const key = keys[k % keys.length]!;
    return mutateJson(fc.constant(m.docs[key])).map((v) => ({ ...m, docs: { ...m.docs, [key]: v } }));
  });
  const withBlobMutation = fc.tuple(valid, fc.nat()).chain(([m, k]) => {
    const keys = Object.keys(m.blobs);
    if (keys.length === 0) return fc.constant(m);
    const key = keys[k % keys.length]!;
    return mutateBytes(fc.constant(m.blobs[key]!)).map((b) => ({ ...m, blobs: { ...m.blobs, [key]: Buffer.from(b) } }));
  });
  const withLink = fc
    .tuple(valid, fc.nat(), fc.constantFrom('../../etc/passwd', '/etc/passwd', 'loop', 'manifest.json', '.', ''))
    .map(([m, k, to]) => {
      const keys = Object.keys(m.blobs);
      if (keys.length === 0) return m;
      const key = keys[k % keys.length]!;
      const blobs = { ...m.blobs };
      delete blobs[key];
      return { ...m, blobs, links: [...m.links, [key, to] as [string, string], ['loop', key] as [string, string]] };
    });
  const asCase = (a: fc.Arbitrary<Members>) => fc.tuple(a, fc.nat()).map(([m, o]) => ({ bytes: toTar(m, o), digests: digestsOf(m) }));
  return fc.oneof(
    asCase(valid),
    asCase(withDocMutation),
    asCase(withBlobMutation),
    asCase(withLink),
    fc.tuple(valid, fc.nat()).chain(([m]) => mutateBytes(fc.constant(toTar(m, 0))).map((bytes) => ({ bytes, digests: digestsOf(m) }))),
  );
}

/** No selector (mostly), a tag (well-formed or mangled), or a digest (one the archive stores, or any). */
const selector = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.oneof(tagArb, mutateString(tagArb)).map((tag) => ({ kind: 'tag' as const, tag })) },
  { weight: 1, arbitrary: fc.oneof(fc.nat().map((k) => ({ kind: 'stored' as const, k })), fc.constantFrom('sha256:' + '0'.repeat(64), 'sha256:xyz', 'md5:00').map((digest) => ({ kind: 'digest' as const, digest }))) },
);
type Selector = { kind: 'none' } | { kind: 'tag'; tag: string } | { kind: 'stored'; k: number } | { kind: 'digest'; digest: string };

function selection(c: ArchiveCase, s: Selector): { tag?: string; digest?: string } {
  if (s.kind === 'tag') return { tag: s.tag };
  if (s.kind === 'digest') return { digest: s.digest };
  if (s.kind === 'stored' && c.digests.length) return { digest: c.digests[s.k % c.digests.length]! };
  return {};
}

const showArchive = (b: Uint8Array) => `tar of ${b.length} bytes, base64:${Buffer.from(b).toString('base64')}`;

export const dockerArchiveTarget = fuzzTarget({
  name: 'docker-archive',
  entry: 'sources/archive.ts openDockerArchive (manifest.json, config, layers, hybrid index.json) + walkLayer',
  arbitrary: fc.record({ archive: archiveBytes(dockerArchive), sel: selector }),
  run: ({ archive, sel }: { archive: ArchiveCase; sel: Selector }) => {
    const { tag } = selection(archive, sel);
    return openAndWalk(archive.bytes, (f) => openDockerArchive(f, tag === undefined ? {} : { tag }));
  },
  isExpectedError: typedError(),
  ciRuns: 120,
  show: ({ archive, sel }) => `selector ${JSON.stringify(sel)}, ${showArchive(archive.bytes)}`,
});

export const ociArchiveTarget = fuzzTarget({
  name: 'oci-archive',
  entry: 'sources/archive.ts openOciArchive → sources/layout.ts (oci-layout, index.json, nested indexes, tag/digest selection) + walkLayer',
  arbitrary: fc.record({ archive: archiveBytes(ociArchive), sel: selector }),
  run: ({ archive, sel }: { archive: ArchiveCase; sel: Selector }) => openAndWalk(archive.bytes, (f) => openOciArchive(f, selection(archive, sel))),
  isExpectedError: typedError(),
  ciRuns: 120,
  show: ({ archive, sel }) => `selector ${JSON.stringify(sel)}, ${showArchive(archive.bytes)}`,
});
