/**
 * Fuzz targets for cosign's signature formats, seeded with real signed data:
 *   - trust.simple-signing: containers/image's `.sig` layers (key, key + Rekor
 *     SET, Fulcio + Rekor) with the payload, signature and annotations mutated,
 *     through verifySimpleSigning (parseSimpleSigningPayload, parseRekorAnnotation);
 *   - trust.dsse: cosign's DSSE envelope of an SLSA provenance, mutated, through
 *     verifyDsseAttestation (parseEnvelope, parseStatement) and readProvenance;
 *   - trust.in-toto: in-toto statements (SLSA v0.2 / v1, an approval) mutated,
 *     through parseStatement, statementCovers and readProvenance;
 *   - trust.checkpoint: Rekor checkpoints (signed notes) mutated, through parseCheckpoint.
 * A verification must end in a result; a mutated signature that still verifies
 * must carry the seed's signed bytes and report what the seed's does.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { AttachedLayer } from '../../../src/core/trust/attachments.js';
import { parseStatement, statementCovers, verifyDsseAttestation } from '../../../src/core/trust/attestation.js';
import type { CosignVerifyContext } from '../../../src/core/trust/cosign-signer.js';
import { describeKey } from '../../../src/core/trust/prehash.js';
import { readProvenance } from '../../../src/core/trust/provenance.js';
import { CheckFailed } from '../../../src/core/trust/reasons.js';
import { verifySimpleSigning } from '../../../src/core/trust/simple-signing.js';
import { parseCheckpoint } from '../../../src/core/trust/tlog.js';
import { defaultTrustedRoot, trustedRootFromPems } from '../../../src/core/trust/trusted-root.js';
import type { TrustedSigner } from '../../../src/core/trust/trust-file.js';
import type { VerificationResult } from '../../../src/core/trust/types.js';
import { fuzzTarget } from '../harness.js';
import { applyJsonEdits, applyTextEdits, broken, checkReason, flipBase64, jsonDocuments, jsonEdit, resultOrTyped, textEdit, type JsonEdit, type TextEdit } from '../trust-common.js';
import { bundleSeeds } from './trust-bundle.js';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const CI_FIX = join(fixtures, 'containers-image/signature/fixtures');
const ciFile = (p: string): string => readFileSync(join(CI_FIX, p), 'utf8');

const evidence = (r: VerificationResult) => JSON.stringify({ signer: r.signer, tlog: r.tlog, signedAt: r.signedAt });

function checkResult(r: VerificationResult | undefined): void {
  if (!r) return;
  if (typeof r.verified !== 'boolean' || typeof r.reason !== 'string') broken('no verdict');
  if (r.verified !== (r.reason === 'OK')) broken(`verified ${r.verified} with reason ${r.reason}`);
  checkReason(r.message);
}

// ---------------------------------------------------------------- simple signing

interface SigSeed {
  name: string;
  layer: AttachedLayer;
  ctx: CosignVerifyContext;
  ok: string;
}

let sigSeeds: SigSeed[] | undefined;

function layerOf(path: string): AttachedLayer {
  const raw = readFileSync(path);
  const header = Buffer.from('\x00sigstore-json\n');
  const doc = JSON.parse(raw.subarray(header.length).toString('utf8')) as { mimeType: string; payload: string; annotations: Record<string, string> };
  const bytes = Buffer.from(doc.payload, 'base64');
  return { mediaType: doc.mimeType, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, annotations: doc.annotations, bytes };
}

function simpleSigningSeeds(): SigSeed[] {
  if (sigSeeds) return sigSeeds;
  const keySigner = (name: string, pem: string): TrustedSigner => ({ name, type: 'key', keyPath: name, publicKeyPem: pem, key: describeKey(pem) });
  const ctKeyPems = defaultTrustedRoot().ctlogs.map((l) => l.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  const anchors = trustedRootFromPems({ rekorKeyPems: [ciFile('rekor.pub')], caPems: [ciFile('fulcio_v1.crt.pem')], ctKeyPems }, 'containers-image fixtures');
  const seedOf = (dir: string, signers: TrustedSigner[], requireTlog: boolean): SigSeed[] => {
    const d = join(CI_FIX, dir);
    const subjects = new Set([`sha256:${createHash('sha256').update(readFileSync(join(d, 'manifest.json'))).digest('hex')}`]);
    return readdirSync(d)
      .filter((n) => n.startsWith('signature-'))
      .sort()
      .map((n) => {
        const layer = layerOf(join(d, n));
        const ctx: CosignVerifyContext = { signers, trustedRoot: anchors, subjects, requireTlog };
        const r = verifySimpleSigning(layer, ctx);
        if (!r.verified) throw new Error(`seed ${dir}/${n} does not verify: ${r.reason} ${r.message}`);
        return { name: `${dir}/${n}`, layer, ctx, ok: evidence(r) };
      });
  };
  const mitr: TrustedSigner = { name: 'mitr', type: 'keyless', issuer: 'https://github.com/login/oauth', subject: 'mitr@redhat.com' };
  sigSeeds = [
    ...seedOf('dir-img-cosign-valid', [keySigner('cosign', ciFile('cosign.pub'))], false),
    ...seedOf('dir-img-cosign-key-rekor-valid', [keySigner('cosign2', ciFile('cosign2.pub'))], true),
    ...seedOf('dir-img-cosign-fulcio-rekor-valid', [mitr], true),
  ];
  return sigSeeds;
}

type AnnotationEdit = { key: number; how: 'flip' | 'text' | 'json' | 'delete' | 'replace' | 'der'; pos: number; bit: number; text: TextEdit[]; json: JsonEdit[]; value: string };

interface SigCase {
  seed: number;
  payload: { how: 'keep' | 'json' | 'text' | 'raw'; json: JsonEdit[]; text: TextEdit[]; raw: Uint8Array };
  annotations: AnnotationEdit[];
  mediaType: string | null;
}

const annotationEdit: fc.Arbitrary<AnnotationEdit> = fc.record({
  key: fc.nat(),
  how: fc.constantFrom<AnnotationEdit['how']>('flip', 'text', 'json', 'delete', 'replace', 'der', 'der'),
  pos: fc.nat(),
  bit: fc.integer({ min: 0, max: 7 }),
  text: fc.array(textEdit, { minLength: 1, maxLength: 2 }),
  json: fc.array(jsonEdit, { minLength: 1, maxLength: 2 }),
  value: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', '{}', '{"SignedEntryTimestamp":"","Payload":{}}', 'AA==')),
});

const sigCase: fc.Arbitrary<SigCase> = fc.record({
  seed: fc.nat(),
  payload: fc.record({
    how: fc.constantFrom<SigCase['payload']['how']>('keep', 'keep', 'json', 'json', 'text', 'raw'),
    json: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }),
    text: fc.array(textEdit, { minLength: 1, maxLength: 3 }),
    raw: fc.uint8Array({ maxLength: 200 }),
  }),
  annotations: fc.array(annotationEdit, { maxLength: 2 }),
  mediaType: fc.constantFrom<string | null>(null, null, null, null, null, null, null, 'application/vnd.dev.cosign.simplesigning.v1+json ', 'application/json', ''),
});

function editAnnotations(a: Record<string, string>, edits: readonly AnnotationEdit[]): Record<string, string> {
  const out = { ...a };
  for (const e of edits) {
    const keys = Object.keys(out);
    if (keys.length === 0) break;
    const k = keys[e.key % keys.length]!;
    const v = out[k]!;
    if (e.how === 'delete') delete out[k];
    else if (e.how === 'replace') out[k] = e.value;
    else if (e.how === 'der' && v.includes('-----BEGIN CERTIFICATE-----')) {
      // One DER byte of the (first) certificate set to another value: structure, not just base64, broken.
      const der = Buffer.from(v.split('-----END CERTIFICATE-----')[0]!.replace(/-----BEGIN CERTIFICATE-----|\s+/g, ''), 'base64');
      der[e.pos % der.length] = [0x00, 0x04, 0x05, 0x06, 0x30, 0x31, 0xa0, 0xff][e.bit]!;
      out[k] = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
    }
    else if (e.how === 'flip') out[k] = /^[A-Za-z0-9+/]+=*$/.test(v) && v.length % 4 === 0 ? flipBase64(v, e.pos, e.bit) : applyTextEdits(Buffer.from(v), [{ op: 'flip', pos: e.pos, bit: e.bit }]).toString('utf8');
    else if (e.how === 'text') out[k] = applyTextEdits(Buffer.from(v), e.text).toString('utf8');
    else {
      try {
        out[k] = JSON.stringify(applyJsonEdits(JSON.parse(v), e.json)) ?? 'null';
      } catch {
        out[k] = applyTextEdits(Buffer.from(v), e.text).toString('utf8');
      }
    }
  }
  return out;
}

function sigInput(c: SigCase): { seed: SigSeed; layer: AttachedLayer } {
  const all = simpleSigningSeeds();
  const seed = all[c.seed % all.length]!;
  const p = c.payload;
  const base = seed.layer.bytes!;
  const bytes =
    p.how === 'keep' ? base : p.how === 'json' ? Buffer.from(JSON.stringify(applyJsonEdits(JSON.parse(base.toString('utf8')), p.json)) ?? 'null') : p.how === 'text' ? applyTextEdits(base, p.text) : Buffer.from(p.raw);
  return { seed, layer: { ...seed.layer, mediaType: c.mediaType ?? seed.layer.mediaType, bytes, annotations: editAnnotations(seed.layer.annotations, c.annotations) } };
}

const sigOf = (a: Record<string, string>) => Buffer.from((a['dev.cosignproject.cosign/signature'] ?? '').replace(/[\r\n]/g, ''), 'base64').toString('hex');

export const simpleSigningTarget = fuzzTarget<SigCase>({
  name: 'trust.simple-signing',
  entry: 'trust/simple-signing.ts verifySimpleSigning (parseSimpleSigningPayload, cosign-signer.ts, rekor-set.ts parseRekorAnnotation, certificate.ts)',
  arbitrary: sigCase,
  ciRuns: 150,
  run(c) {
    const { seed, layer } = sigInput(c);
    const r = resultOrTyped(() => verifySimpleSigning(layer, seed.ctx));
    checkResult(r);
    if (!r?.verified) return;
    if (!layer.bytes!.equals(seed.layer.bytes!)) broken(`seed ${seed.name}: a changed payload verified`);
    if (sigOf(layer.annotations) !== sigOf(seed.layer.annotations)) broken(`seed ${seed.name}: a changed signature verified`);
    if (evidence(r) !== seed.ok) broken(`seed ${seed.name}: a mutated signature verified with other evidence: ${evidence(r).slice(0, 300)}`);
  },
  show(c) {
    const { seed, layer } = sigInput(c);
    return `seed ${seed.name}: ${JSON.stringify({ mediaType: layer.mediaType, payload: layer.bytes!.toString('utf8'), annotations: layer.annotations }).slice(0, 4000)}`;
  },
});

// ---------------------------------------------------------------- DSSE

interface DsseSeed {
  envelope: Record<string, any>;
  ctx: CosignVerifyContext;
  ok: string;
}
let dsseSeed: DsseSeed | undefined;

function dsseSeedOf(): DsseSeed {
  if (dsseSeed) return dsseSeed;
  const d = join(fixtures, 'cosign/verify-blob-attestation');
  const pem = readFileSync(join(d, 'cosign.pub'), 'utf8');
  const envelope = JSON.parse(readFileSync(join(d, 'blobSLSAProvenanceSignature.dsse.json'), 'utf8'));
  const subjects = new Set([`sha256:${createHash('sha256').update(readFileSync(join(d, 'blobContents.txt'))).digest('hex')}`]);
  const ctx: CosignVerifyContext = { signers: [{ name: 'cosign', type: 'key', keyPath: 'cosign.pub', publicKeyPem: pem, key: describeKey(pem) }], trustedRoot: trustedRootFromPems({}, 'none'), subjects, requireTlog: false };
  const r = verifyDsseAttestation(dsseLayer(Buffer.from(JSON.stringify(envelope))), ctx);
  if (!r.verified) throw new Error(`DSSE seed does not verify: ${r.reason} ${r.message}`);
  dsseSeed = { envelope, ctx, ok: evidence(r) };
  return dsseSeed;
}

const dsseLayer = (bytes: Buffer): AttachedLayer => ({
  mediaType: 'application/vnd.dsse.envelope.v1+json',
  digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
  size: bytes.length,
  annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: 'https://slsa.dev/provenance/v0.2' },
  bytes,
});

interface DsseCase {
  how: 'keep' | 'envelope' | 'payload' | 'text' | 'flip';
  json: JsonEdit[];
  text: TextEdit[];
  field: 'payload' | 'sig';
  pos: number;
  bit: number;
}

const dsseCase: fc.Arbitrary<DsseCase> = fc.record({
  how: fc.constantFrom<DsseCase['how']>('keep', 'envelope', 'envelope', 'payload', 'payload', 'text', 'flip'),
  json: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }),
  text: fc.array(textEdit, { minLength: 1, maxLength: 3 }),
  field: fc.constantFrom<DsseCase['field']>('payload', 'sig'),
  pos: fc.nat(),
  bit: fc.integer({ min: 0, max: 7 }),
});

function dsseInput(c: DsseCase): Buffer {
  const env = dsseSeedOf().envelope;
  if (c.how === 'keep') return Buffer.from(JSON.stringify(env));
  if (c.how === 'envelope') return Buffer.from(JSON.stringify(applyJsonEdits(env, c.json)) ?? 'null');
  if (c.how === 'text') return applyTextEdits(Buffer.from(JSON.stringify(env)), c.text);
  const copy = structuredClone(env);
  if (c.how === 'payload') {
    // A re-signed-looking statement: the payload's JSON edited (the signature no longer covers it).
    const st = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    copy.payload = Buffer.from(JSON.stringify(applyJsonEdits(st, c.json)) ?? 'null').toString('base64');
  } else if (c.field === 'payload') copy.payload = flipBase64(env.payload, c.pos, c.bit);
  else copy.signatures[0].sig = flipBase64(env.signatures[0].sig, c.pos, c.bit);
  return Buffer.from(JSON.stringify(copy));
}

export const dsseTarget = fuzzTarget<DsseCase>({
  name: 'trust.dsse',
  entry: 'trust/attestation.ts verifyDsseAttestation (parseEnvelope, parseStatement), provenance.ts readProvenance',
  arbitrary: dsseCase,
  ciRuns: 150,
  run(c) {
    const seed = dsseSeedOf();
    const bytes = dsseInput(c);
    const r = resultOrTyped(() => verifyDsseAttestation(dsseLayer(bytes), seed.ctx));
    checkResult(r);
    if (r?.statement) resultOrTyped(() => readProvenance(r.statement!));
    if (!r?.verified) return;
    const env = JSON.parse(bytes.toString('utf8'));
    if (env.payload !== seed.envelope.payload || env.payloadType !== seed.envelope.payloadType) broken('a changed DSSE payload verified');
    if (evidence(r) !== seed.ok) broken(`a mutated envelope verified with other evidence: ${evidence(r).slice(0, 300)}`);
  },
  show: (c) => dsseInput(c).toString('utf8').slice(0, 4000),
});

// ---------------------------------------------------------------- in-toto statements

let statementSeeds: unknown[] | undefined;

function inTotoSeeds(): unknown[] {
  if (statementSeeds) return statementSeeds;
  const fromEnvelope = JSON.parse(Buffer.from(dsseSeedOf().envelope.payload, 'base64').toString('utf8'));
  const conformance = JSON.parse(readFileSync(join(fixtures, 'sigstore-conformance/statement.json'), 'utf8'));
  const slsaV1 = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'ghcr.io/acme/app', digest: { sha256: 'a'.repeat(64) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://actions.github.io/buildtypes/workflow/v1',
        externalParameters: { workflow: { ref: 'refs/heads/main', repository: 'https://github.com/acme/app', path: '.github/workflows/release.yml' } },
        resolvedDependencies: [{ uri: 'git+https://github.com/acme/app@refs/heads/main', digest: { gitCommit: 'b'.repeat(40) } }],
      },
      runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' }, metadata: { invocationId: 'https://github.com/acme/app/actions/runs/1/attempts/1', startedOn: '2026-01-01T00:00:00Z' } },
    },
  };
  statementSeeds = [fromEnvelope, conformance, slsaV1];
  return statementSeeds;
}

export const inTotoTarget = fuzzTarget<Buffer>({
  name: 'trust.in-toto',
  entry: 'trust/attestation.ts parseStatement, statementCovers; provenance.ts readProvenance',
  arbitrary: fc.constant(null).chain(() => jsonDocuments(inTotoSeeds())),
  ciRuns: 300,
  run(bytes) {
    const st = resultOrTyped(() => parseStatement(bytes));
    checkReason(st);
    if (st === undefined || typeof st === 'string') return;
    resultOrTyped(() => statementCovers(st, new Set([`sha256:${'a'.repeat(64)}`])));
    resultOrTyped(() => readProvenance(st));
  },
  show: (b) => b.toString('utf8').slice(0, 4000),
});

// ---------------------------------------------------------------- checkpoints

let checkpointSeeds: string[] | undefined;

function checkpoints(): string[] {
  checkpointSeeds ??= bundleSeeds()
    .flatMap((s) => (s.bundle.verificationMaterial?.tlogEntries ?? []).map((e: any) => e?.inclusionProof?.checkpoint?.envelope))
    .filter((x: unknown): x is string => typeof x === 'string');
  return checkpointSeeds;
}

export const checkpointTarget = fuzzTarget<string>({
  name: 'trust.checkpoint',
  entry: 'trust/tlog.ts parseCheckpoint (C2SP signed notes)',
  arbitrary: fc.constant(null).chain(() =>
    fc.oneof(
      fc.constantFrom(...checkpoints()),
      fc.tuple(fc.constantFrom(...checkpoints()), fc.array(textEdit, { minLength: 1, maxLength: 3 })).map(([s, e]) => applyTextEdits(Buffer.from(s), e).toString('utf8')),
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
    ),
  ),
  ciRuns: 100,
  run(text) {
    // CheckFailed is the pipeline's typed failure (verifyBundle turns it into a TLOG_INVALID result).
    resultOrTyped(() => parseCheckpoint(text), [CheckFailed]);
  },
  show: (s) => JSON.stringify(s),
});
