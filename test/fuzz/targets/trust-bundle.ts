/**
 * Fuzz targets for Sigstore bundles (v0.1–v0.3, message signatures and DSSE,
 * keys and certificates, Rekor v1 and v2, RFC 3161 timestamps), seeded with the
 * 21 real bundles of the Sigstore conformance suite that verify:
 *   - trust.bundle: structural and text mutations, and raw bytes, through
 *     verifyBundleSync: a result or a TrustInputError, never an exception; a
 *     mutated bundle that still verifies must carry the seed's signed content;
 *   - trust.bundle.signed-bytes: one bit of one signed field flipped (signature,
 *     digest, payload, certificate, log body, SET, proof, checkpoint, timestamp)
 *     or the artifact changed: never verified.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { verifyBundleSync, type BundlePolicy } from '../../../src/core/trust/bundle.js';
import { TrustInputError } from '../../../src/core/trust/reasons.js';
import { loadTrustedRoot, type TrustedRoot } from '../../../src/core/trust/trusted-root.js';
import type { Artifact, VerificationResult } from '../../../src/core/trust/types.js';
import { applyJsonEdits, applyTextEdits, broken, checkReason, flipBase64, jsonEdit, resultOrTyped, textEdit, type JsonEdit, type TextEdit } from '../trust-common.js';
import { fuzzTarget } from '../harness.js';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const casesDir = join(fixtures, 'sigstore-conformance/bundle-verify');
const prodRoot = join(fixtures, 'sigstore-python-trust/prod/trusted_root.json');
const DEFAULT_IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

export interface BundleSeed {
  name: string;
  bundle: Record<string, any>;
  artifactBytes: Buffer;
  policy: BundlePolicy;
  root: TrustedRoot;
}

let seeds: BundleSeed[] | undefined;

/** The conformance cases that verify, each with its artifact, policy and trusted root (roots parsed once). */
export function bundleSeeds(): BundleSeed[] {
  if (seeds) return seeds;
  const roots = new Map<string, TrustedRoot>();
  const rootAt = (p: string) => {
    let r = roots.get(p);
    if (!r) roots.set(p, (r = loadTrustedRoot(p)));
    return r;
  };
  seeds = readdirSync(casesDir)
    .filter((d) => !d.endsWith('_fail') && statSync(join(casesDir, d)).isDirectory())
    .sort()
    .map((name) => {
      const file = (f: string) => join(casesDir, name, f);
      const artifactBytes = readFileSync(existsSync(file('artifact')) ? file('artifact') : join(casesDir, 'a.txt'));
      const policy: BundlePolicy = existsSync(file('key.pub'))
        ? { key: readFileSync(file('key.pub'), 'utf8'), name: 'key' }
        : {
            identity: {
              issuer: existsSync(file('issuer')) ? readFileSync(file('issuer'), 'utf8').trim() : DEFAULT_ISSUER,
              subject: existsSync(file('identity')) ? readFileSync(file('identity'), 'utf8').trim() : DEFAULT_IDENTITY,
            },
            name: 'identity',
          };
      const root = rootAt(existsSync(file('trusted_root.json')) ? file('trusted_root.json') : prodRoot);
      return { name, bundle: JSON.parse(readFileSync(file('bundle.sigstore.json'), 'utf8')), artifactBytes, policy, root };
    });
  return seeds;
}

const artifactOf = (s: BundleSeed, digestMode: boolean): Artifact =>
  digestMode ? { kind: 'digest', algorithm: 'sha256', hex: createHash('sha256').update(s.artifactBytes).digest('hex') } : { kind: 'bytes', bytes: s.artifactBytes };

/** What a signature commits to: the content, the signature, and who signed (certificate or key hint aside). */
function signedContent(b: any): string {
  const vm = b?.verificationMaterial ?? {};
  const certs = vm.certificate ? [vm.certificate.rawBytes] : (vm.x509CertificateChain?.certificates ?? []).map((c: any) => c?.rawBytes);
  const norm = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, /[-_]/.test(s) ? 'base64url' : 'base64').toString('hex') : s);
  return JSON.stringify({
    ms: b?.messageSignature ? { d: norm(b.messageSignature.messageDigest?.digest), s: norm(b.messageSignature.signature) } : null,
    dsse: b?.dsseEnvelope ? { t: b.dsseEnvelope.payloadType, p: norm(b.dsseEnvelope.payload), s: (b.dsseEnvelope.signatures ?? []).map((x: any) => norm(x?.sig)) } : null,
    certs: certs.slice(0, 1).map(norm),
  });
}

const seedResults = new Map<string, string>();
const seedSignedAt = new Map<string, string>();

/** What the seed's own verification reports (signer, log evidence, signing time), as text for comparison. */
function seedResult(seed: BundleSeed, digestMode: boolean): string {
  const key = `${seed.name}:${digestMode}`;
  let r = seedResults.get(key);
  if (r === undefined) {
    const v = verifyBundleSync(JSON.stringify(seed.bundle), artifactOf(seed, digestMode), seed.policy, seed.root);
    seedResults.set(key, (r = evidenceOf(v)));
    if (v.signedAt) seedSignedAt.set(key, v.signedAt);
  }
  return r;
}

/**
 * What a verification proves, for comparison with the seed's: the signer and the log entry exactly.
 * Not `tlog.proof` (removing the unsigned inclusion proof of an entry that has a SET rightly downgrades
 * it) and not the signing time, which evidenceProblem checks separately.
 */
const evidenceOf = (r: Pick<VerificationResult, 'signer' | 'tlog'>): string =>
  JSON.stringify({ signer: r.signer, tlog: r.tlog && { logIndex: r.tlog.logIndex, integratedTime: r.tlog.integratedTime, logId: r.tlog.logId } });

/**
 * Why a mutated bundle's verified result claims more than the seed's, or undefined. Its signing time
 * may be later than the seed's (a timestamp removed: the earliest proven time of fewer proofs), never earlier.
 */
function evidenceProblem(r: VerificationResult, seed: BundleSeed, digestMode: boolean): string | undefined {
  const got = evidenceOf(r);
  const want = seedResult(seed, digestMode);
  if (got !== want) return evidenceDiff(got, want);
  const seedAt = seedSignedAt.get(`${seed.name}:${digestMode}`);
  if (seedAt && (!r.signedAt || Date.parse(r.signedAt) < Date.parse(seedAt))) return `signedAt ${r.signedAt} is before the seed's ${seedAt}`;
  return undefined;
}

/** The first part of two evidence texts that differs, both ways (the signer alone is a screenful). */
function evidenceDiff(got: string, want: string): string {
  const a = JSON.parse(got) as Record<string, unknown>;
  const b = JSON.parse(want) as Record<string, unknown>;
  const k = Object.keys(b).find((x) => JSON.stringify(a[x]) !== JSON.stringify(b[x])) ?? 'signer';
  return `${k} ${JSON.stringify(a[k])} instead of ${JSON.stringify(b[k])}`;
}

function verifyOrTyped(bundle: unknown, seed: BundleSeed, digestMode: boolean) {
  // The policy is the seed's (valid): a TrustInputError here would be the bundle making policy input fail.
  const r = resultOrTyped(() => verifyBundleSync(bundle, artifactOf(seed, digestMode), seed.policy, seed.root), [TrustInputError]);
  if (r) {
    if (typeof r.verified !== 'boolean' || typeof r.reason !== 'string') broken('verifyBundle returned no verdict');
    checkReason(r.message);
    if (r.verified !== (r.reason === 'OK')) broken(`verified ${r.verified} with reason ${r.reason}`);
  }
  return r;
}

interface BundleCase {
  seed: number;
  digestMode: boolean;
  form: 'json' | 'text' | 'raw';
  jsonEdits: JsonEdit[];
  textEdits: TextEdit[];
  raw: Uint8Array;
}

const bundleCase: fc.Arbitrary<BundleCase> = fc.record({
  seed: fc.nat(),
  digestMode: fc.boolean(),
  form: fc.constantFrom<BundleCase['form']>('json', 'json', 'json', 'text', 'raw'),
  jsonEdits: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }),
  textEdits: fc.array(textEdit, { minLength: 1, maxLength: 3 }),
  raw: fc.uint8Array({ maxLength: 300 }),
});

function caseInput(c: BundleCase): { seed: BundleSeed; input: unknown } {
  const all = bundleSeeds();
  const seed = all[c.seed % all.length]!;
  if (c.form === 'json') return { seed, input: JSON.stringify(applyJsonEdits(seed.bundle, c.jsonEdits)) ?? 'null' };
  if (c.form === 'text') return { seed, input: applyTextEdits(Buffer.from(JSON.stringify(seed.bundle)), c.textEdits) };
  return { seed, input: Buffer.from(c.raw) };
}

export const bundleTarget = fuzzTarget<BundleCase>({
  name: 'trust.bundle',
  entry: 'src/core/trust/bundle.ts verifyBundleSync (parseInput, parseBundle, prepareTlogEntries, @sigstore/verify)',
  arbitrary: bundleCase,
  ciRuns: 150,
  run(c) {
    const { seed, input } = caseInput(c);
    const r = verifyOrTyped(input, seed, c.digestMode);
    if (r?.verified) {
      const text = Buffer.isBuffer(input) ? input.toString('utf8') : (input as string);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        broken('a bundle that is not JSON verified');
      }
      if (signedContent(parsed) !== signedContent(seed.bundle)) broken(`a mutated bundle verified with other signed content (seed ${seed.name})`);
      // What it proves must be what the seed proves: an unsigned field must not change the reported signer, log entry or time.
      const problem = evidenceProblem(r, seed, c.digestMode);
      if (problem) broken(`a mutated bundle verified with other evidence (seed ${seed.name}): ${problem}`);
    }
  },
  show(c) {
    const { seed, input } = caseInput(c);
    return `seed ${seed.name} (${c.digestMode ? 'digest' : 'bytes'} mode): ${String(input).slice(0, 4000)}`;
  },
});

// ---------------------------------------------------------------- signed bytes

/** `claimOnly`: nothing signs it, so it may be ignored, but never reported as proven (the result must stay the seed's). */
type Field = { path: Array<string | number>; kind: 'b64' | 'int' | 'str' | 'checkpoint' | 'cert' | 'timestamp'; claimOnly?: boolean };

// ---------------------------------------------------------------- DER: where the signed bytes are

interface Tlv {
  tag: number;
  /** Offset of the tag, of the content, and one past the end. */
  at: number;
  start: number;
  end: number;
}

function tlv(b: Buffer, at: number): Tlv {
  const tag = b[at]!;
  let len = b[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[at + 2 + i]!;
    start += n;
  }
  return { tag, at, start, end: start + len };
}

function children(b: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const c = tlv(b, at);
    out.push(c);
    at = c.end;
  }
  return out;
}

/**
 * Byte ranges a signature covers: a certificate's TBSCertificate and signature
 * value; an RFC 3161 timestamp's TSTInfo, signed attributes and signature. The
 * rest (outer tags, the embedded certificates a verifier never trusts, the
 * response status) is unsigned: changing it may or may not be noticed.
 */
export function signedRanges(der: Buffer, kind: 'cert' | 'timestamp'): Array<[number, number]> {
  const outer = tlv(der, 0);
  if (kind === 'cert') {
    const [tbs, , sig] = children(der, outer) as [Tlv, Tlv, Tlv];
    return [
      [tbs.at, tbs.end],
      [sig.start + 1, sig.end], // after the BIT STRING's unused-bits byte
    ];
  }
  let ci = outer;
  const first = children(der, outer)[0]!;
  if (first.tag !== 0x06) ci = children(der, outer)[1]!; // TimeStampResp { status, timeStampToken }
  const signedData = children(der, children(der, ci)[1]!)[0]!;
  const parts = children(der, signedData);
  const encap = parts[2]!;
  const eContent = children(der, children(der, encap)[1]!)[0]!;
  const signerInfos = parts[parts.length - 1]!;
  const si = children(der, children(der, signerInfos)[0]!);
  const signedAttrs = si.find((x) => x.tag === 0xa0)!;
  const signature = si.find((x, i) => x.tag === 0x04 && i > si.indexOf(signedAttrs))!;
  return [
    [eContent.start, eContent.end],
    [signedAttrs.start, signedAttrs.end],
    [signature.start, signature.end],
  ];
}

function signedPosition(der: Buffer, kind: 'cert' | 'timestamp', pos: number): number {
  const ranges = signedRanges(der, kind);
  const total = ranges.reduce((n, [a, b]) => n + (b - a), 0);
  let k = pos % total;
  for (const [a, b] of ranges) {
    if (k < b - a) return a + k;
    k -= b - a;
  }
  return ranges[0]![0];
}

/** Every field of `b` whose bytes a signature, a log or a timestamp commits to. */
export function signedFields(b: any): Field[] {
  const out: Field[] = [];
  const vm = b.verificationMaterial ?? {};
  if (b.messageSignature) {
    out.push({ path: ['messageSignature', 'signature'], kind: 'b64' }, { path: ['messageSignature', 'messageDigest', 'digest'], kind: 'b64' });
  }
  if (b.dsseEnvelope) {
    out.push({ path: ['dsseEnvelope', 'payload'], kind: 'b64' }, { path: ['dsseEnvelope', 'payloadType'], kind: 'str' });
    (b.dsseEnvelope.signatures ?? []).forEach((_: unknown, i: number) => out.push({ path: ['dsseEnvelope', 'signatures', i, 'sig'], kind: 'b64' }));
  }
  if (vm.certificate) out.push({ path: ['verificationMaterial', 'certificate', 'rawBytes'], kind: 'cert' });
  // The leaf: later certificates in a chain may be anything the trusted root already holds.
  if (vm.x509CertificateChain) out.push({ path: ['verificationMaterial', 'x509CertificateChain', 'certificates', 0, 'rawBytes'], kind: 'cert' });
  (vm.tlogEntries ?? []).forEach((e: any, i: number) => {
    const at = ['verificationMaterial', 'tlogEntries', i];
    out.push({ path: [...at, 'canonicalizedBody'], kind: 'b64' }, { path: [...at, 'logId', 'keyId'], kind: 'b64' }, { path: [...at, 'logIndex'], kind: 'int' });
    if (e.inclusionPromise) out.push({ path: [...at, 'inclusionPromise', 'signedEntryTimestamp'], kind: 'b64' }, { path: [...at, 'integratedTime'], kind: 'int' });
    else out.push({ path: [...at, 'integratedTime'], kind: 'int', claimOnly: true });
    const p = e.inclusionProof;
    if (p) {
      out.push({ path: [...at, 'inclusionProof', 'rootHash'], kind: 'b64' });
      (p.hashes ?? []).forEach((_: unknown, j: number) => out.push({ path: [...at, 'inclusionProof', 'hashes', j], kind: 'b64' }));
      if (p.checkpoint?.envelope) {
        // Without a checkpoint (v0.1, the SET vouches) the proof's index and size are self-consistency only.
        out.push({ path: [...at, 'inclusionProof', 'treeSize'], kind: 'int' }, { path: [...at, 'inclusionProof', 'logIndex'], kind: 'int' }, { path: [...at, 'inclusionProof', 'checkpoint', 'envelope'], kind: 'checkpoint' });
      }
    }
  });
  (vm.timestampVerificationData?.rfc3161Timestamps ?? []).forEach((_: unknown, i: number) => out.push({ path: ['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', i, 'signedTimestamp'], kind: 'timestamp' }));
  return out;
}

function mutateField(bundle: any, f: Field, pos: number, bit: number, delta: number): any {
  const copy = structuredClone(bundle);
  let holder = copy;
  for (const k of f.path.slice(0, -1)) holder = holder[k];
  const key = f.path[f.path.length - 1]!;
  const v = holder[key];
  if (f.kind === 'b64') holder[key] = flipBase64(v, pos, bit);
  else if (f.kind === 'cert' || f.kind === 'timestamp') holder[key] = flipBase64(v, signedPosition(Buffer.from(v, 'base64'), f.kind, pos), bit);
  else if (f.kind === 'int') {
    const n = BigInt(v ?? 0) + BigInt(delta);
    holder[key] = String(n < 0n ? BigInt(v ?? 0) + 1n : n);
  } else if (f.kind === 'str') {
    const s = String(v);
    const i = pos % Math.max(s.length, 1);
    holder[key] = s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << (bit % 7)) || 0x41) + s.slice(i + 1);
  } else {
    // The note (origin, size, root hash, extensions): what the log's key signs; cosignatures of witnesses are not checked.
    const s = String(v);
    const noteEnd = s.indexOf('\n\n');
    const i = pos % Math.max(noteEnd, 1);
    const c = s.charCodeAt(i) ^ (1 << (bit % 7));
    holder[key] = s.slice(0, i) + (c === 0x0a ? 'x' : String.fromCharCode(c)) + s.slice(i + 1);
  }
  return copy;
}

interface SignedBytesCase {
  seed: number;
  field: number;
  pos: number;
  bit: number;
  delta: number;
  digestMode: boolean;
  /** Change the artifact instead of the bundle. */
  artifact: boolean;
}

const signedBytesCase: fc.Arbitrary<SignedBytesCase> = fc.record({
  seed: fc.nat(),
  field: fc.nat(),
  pos: fc.nat(),
  bit: fc.integer({ min: 0, max: 7 }),
  delta: fc.oneof(fc.constantFrom(1, -1), fc.integer({ min: -1000, max: 1000 }).filter((d) => d !== 0)),
  digestMode: fc.boolean(),
  artifact: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
});

function signedBytesInput(c: SignedBytesCase): { seed: BundleSeed; bundle: any; artifact: Artifact; what: string; claimOnly?: boolean } {
  const all = bundleSeeds();
  const seed = all[c.seed % all.length]!;
  if (c.artifact) {
    const bytes = Buffer.from(seed.artifactBytes);
    if (bytes.length === 0) return { seed, bundle: seed.bundle, artifact: { kind: 'bytes', bytes: Buffer.from('x') }, what: 'artifact' };
    bytes[c.pos % bytes.length] ^= 1 << c.bit;
    const artifact: Artifact = c.digestMode ? { kind: 'digest', algorithm: 'sha256', hex: createHash('sha256').update(bytes).digest('hex') } : { kind: 'bytes', bytes };
    return { seed, bundle: seed.bundle, artifact, what: `artifact byte ${c.pos % bytes.length} bit ${c.bit}` };
  }
  const fields = signedFields(seed.bundle);
  const f = fields[c.field % fields.length]!;
  return { seed, bundle: mutateField(seed.bundle, f, c.pos, c.bit, c.delta), artifact: artifactOf(seed, c.digestMode), what: `${f.path.join('.')} (${f.kind})`, ...(f.claimOnly ? { claimOnly: true } : {}) };
}

export const signedBytesTarget = fuzzTarget<SignedBytesCase>({
  name: 'trust.bundle.signed-bytes',
  entry: 'src/core/trust/bundle.ts verifyBundleSync: any change to signed bytes or to the artifact is refused',
  arbitrary: signedBytesCase,
  ciRuns: 150,
  run(c) {
    const { seed, bundle, artifact, what, claimOnly } = signedBytesInput(c);
    const r = resultOrTyped(() => verifyBundleSync(JSON.stringify(bundle), artifact, seed.policy, seed.root), [TrustInputError]);
    if (r) checkReason(r.message);
    if (!r?.verified) return;
    if (!claimOnly) broken(`seed ${seed.name}: changing ${what} still verified`);
    const problem = evidenceProblem(r, seed, c.digestMode);
    if (problem) broken(`seed ${seed.name}: changing the unsigned ${what} changed what the result reports as proven: ${problem}`);
  },
  show(c) {
    const { seed, what } = signedBytesInput(c);
    return `seed ${seed.name}, ${c.digestMode ? 'digest' : 'bytes'} mode, changed ${what} (pos ${c.pos}, bit ${c.bit}, delta ${c.delta})`;
  },
});

/** Every seed verifies as given (else the mutation properties prove nothing). */
export function checkBundleSeeds(): void {
  for (const s of bundleSeeds()) {
    for (const digestMode of [false, true]) {
      const r = verifyBundleSync(JSON.stringify(s.bundle), artifactOf(s, digestMode), s.policy, s.root);
      if (!r.verified) throw new Error(`seed ${s.name} (${digestMode ? 'digest' : 'bytes'}) does not verify: ${r.reason} ${r.message}`);
    }
  }
}

