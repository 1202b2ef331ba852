/**
 * Fuzz targets for trust anchors as the trust code reads them:
 *   - trust.public-key: PEM / DER public keys (ECDSA P-256/P-384/P-521, RSA, Ed25519,
 *     a private key, a certificate) mutated, through describeKey and keyIdOf;
 *   - trust.certificate: X.509 certificates (Fulcio leaves and CAs, PKI chains) as
 *     PEM text and DER, mutated, through splitPemCertificates, parseCertificate,
 *     fulcioExtensions, issuerConflict and certificateSubject;
 *   - trust.trusted-root: trusted_root.json (public-good prod and staging, the
 *     conformance suite's private roots), JSON-edited and with DER bytes of its
 *     keys and certificates flipped, through loadTrustedRoot.
 * Each ends in a result or a TrustInputError naming what is wrong.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { certificateSubject, fulcioExtensions, issuerConflict, parseCertificate, splitPemCertificates } from '../../../src/core/trust/certificate.js';
import { describeKey, keyIdOf } from '../../../src/core/trust/prehash.js';
import { loadTrustedRoot } from '../../../src/core/trust/trusted-root.js';
import { fuzzTarget } from '../harness.js';
import { applyJsonEdits, applyTextEdits, broken, jsonEdit, resultOrTyped, textEdit, type JsonEdit, type TextEdit } from '../trust-common.js';
import { bundleSeeds } from './trust-bundle.js';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const read = (p: string) => readFileSync(join(fixtures, p), 'utf8');

// ---------------------------------------------------------------- public keys

let keySeeds: string[] | undefined;

function publicKeys(): string[] {
  if (keySeeds) return keySeeds;
  const pem = (k: { export(o: object): string | Buffer }) => k.export({ type: 'spki', format: 'pem' }).toString();
  const ec = (namedCurve: string) => pem(generateKeyPairSync('ec', { namedCurve }).publicKey);
  const ed = generateKeyPairSync('ed25519');
  keySeeds = [
    read('containers-image/signature/fixtures/cosign.pub'),
    read('containers-image/signature/fixtures/rekor.pub'),
    read('sigstore-conformance/bundle-verify/managed-key-happy-path/key.pub'),
    read('sigstore-js/verify-fixtures/PUBLIC_KEY.pem'),
    ec('P-384'),
    ec('P-521'),
    ec('secp256k1'),
    pem(ed.publicKey),
    pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey),
    pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey),
    ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    read('containers-image/signature/fixtures/fulcio_v1.crt.pem'),
  ];
  return keySeeds;
}

/** PEM text: edited as text, its base64 body's bytes flipped, or as DER bytes. */
interface PemCase {
  seed: number;
  how: 'keep' | 'text' | 'der-flip' | 'der-cut' | 'der' | 'raw';
  text: TextEdit[];
  pos: number;
  value: number;
  raw: Uint8Array;
}

const pemCase: fc.Arbitrary<PemCase> = fc.record({
  seed: fc.nat(),
  how: fc.constantFrom<PemCase['how']>('keep', 'text', 'text', 'der-flip', 'der-flip', 'der-cut', 'der', 'raw'),
  text: fc.array(textEdit, { minLength: 1, maxLength: 3 }),
  pos: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
  raw: fc.uint8Array({ maxLength: 300 }),
});

const derOf = (pem: string): Buffer => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s+/g, ''), 'base64');
const pemOf = (der: Buffer, label: string): string => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`;
const labelOf = (pem: string): string => /-----BEGIN ([A-Z ]+)-----/.exec(pem)?.[1] ?? 'PUBLIC KEY';

/** A PEM (string) or DER (bytes) input derived from `seeds` by `c`. */
function pemInput(seeds: string[], c: PemCase): string | Buffer {
  const pem = seeds[c.seed % seeds.length]!;
  const der = derOf(pem);
  switch (c.how) {
    case 'keep':
      return pem;
    case 'text':
      return applyTextEdits(Buffer.from(pem), c.text).toString('utf8');
    case 'der-flip': {
      const d = Buffer.from(der);
      d[c.pos % d.length] = c.value;
      return pemOf(d, labelOf(pem));
    }
    case 'der-cut':
      return pemOf(der.subarray(0, c.pos % (der.length + 1)), labelOf(pem));
    case 'der':
      return der;
    case 'raw':
      return Buffer.from(c.raw);
  }
}

const showPem = (v: string | Buffer) => (typeof v === 'string' ? JSON.stringify(v) : `hex:${v.toString('hex')}`);

export const publicKeyTarget = fuzzTarget<PemCase>({
  name: 'trust.public-key',
  entry: 'trust/prehash.ts describeKey, keyIdOf, toKeyObject (trust-file readPublicKey, verify --key)',
  arbitrary: pemCase,
  ciRuns: 200,
  run(c) {
    const input = pemInput(publicKeys(), c);
    const info = resultOrTyped(() => describeKey(input));
    if (info && keyIdOf(info.key) !== info.keyId) broken('describeKey and keyIdOf disagree on the key id');
  },
  show: (c) => showPem(pemInput(publicKeys(), c)),
});

// ---------------------------------------------------------------- certificates

let certSeeds: string[] | undefined;

function certificates(): string[] {
  if (certSeeds) return certSeeds;
  const fromBundles = bundleSeeds().flatMap((s) => {
    const vm = s.bundle.verificationMaterial ?? {};
    const raw = vm.certificate ? [vm.certificate.rawBytes] : (vm.x509CertificateChain?.certificates ?? []).map((c: any) => c.rawBytes);
    return raw.filter((r: unknown): r is string => typeof r === 'string').map((r: string) => pemOf(Buffer.from(r, 'base64'), 'CERTIFICATE'));
  });
  const split = (t: string) => t.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  certSeeds = [
    ...new Set([
      ...fromBundles.slice(0, 8),
      read('containers-image/signature/fixtures/fulcio-cert'),
      ...split(read('containers-image/signature/fixtures/fulcio-chain')),
      ...split(read('containers-image/signature/fixtures/pki_root_crts.pem')),
      ...split(read('containers-image/signature/fixtures/pki_intermediate_crts.pem')),
      read('containers-image/signature/fixtures/pki-cert'),
    ]),
  ];
  return certSeeds;
}

export const certificateTarget = fuzzTarget<PemCase>({
  name: 'trust.certificate',
  entry: 'trust/certificate.ts splitPemCertificates, parseCertificate, fulcioExtensions, issuerConflict, certificateSubject',
  arbitrary: pemCase,
  ciRuns: 300,
  run(c) {
    const input = pemInput(certificates(), c);
    const certs = typeof input === 'string' ? resultOrTyped(() => splitPemCertificates(input)) : [resultOrTyped(() => parseCertificate(input))];
    for (const cert of certs ?? []) {
      if (!cert) continue;
      resultOrTyped(() => fulcioExtensions(cert));
      resultOrTyped(() => issuerConflict(cert));
      resultOrTyped(() => certificateSubject(cert));
    }
  },
  show: (c) => showPem(pemInput(certificates(), c)),
});

// ---------------------------------------------------------------- trusted roots

let rootSeeds: unknown[] | undefined;

function trustedRoots(): unknown[] {
  rootSeeds ??= [
    'sigstore-python-trust/prod/trusted_root.json',
    'sigstore-python-trust/staging/trusted_root.json',
    'sigstore-conformance/bundle-verify/rekor2-happy-path/trusted_root.json',
    'sigstore-conformance/bundle-verify/managed-key-and-trusted-root/trusted_root.json',
  ].map((p) => JSON.parse(read(p)));
  return rootSeeds;
}

interface RootCase {
  seed: number;
  how: 'json' | 'der' | 'text' | 'raw';
  json: JsonEdit[];
  text: TextEdit[];
  pick: number;
  pos: number;
  value: number;
  raw: Uint8Array;
}

const rootCase: fc.Arbitrary<RootCase> = fc.record({
  seed: fc.nat(),
  how: fc.constantFrom<RootCase['how']>('json', 'json', 'json', 'der', 'der', 'text', 'raw'),
  json: fc.array(jsonEdit, { minLength: 1, maxLength: 4 }),
  text: fc.array(textEdit, { minLength: 1, maxLength: 3 }),
  pick: fc.nat(),
  pos: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
  raw: fc.uint8Array({ maxLength: 300 }),
});

/** Every `rawBytes` (keys and certificates) in a trusted root, by path. */
function rawBytesPaths(v: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  if (Array.isArray(v)) v.forEach((x, i) => rawBytesPaths(x, [...at, i], out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) k === 'rawBytes' && typeof x === 'string' ? out.push([...at, k]) : rawBytesPaths(x, [...at, k], out);
  return out;
}

function rootInput(c: RootCase): Buffer {
  const seeds = trustedRoots();
  const seed = seeds[c.seed % seeds.length]!;
  if (c.how === 'json') return Buffer.from(JSON.stringify(applyJsonEdits(seed, c.json)) ?? 'null');
  if (c.how === 'text') return applyTextEdits(Buffer.from(JSON.stringify(seed)), c.text);
  if (c.how === 'raw') return Buffer.from(c.raw);
  const copy = structuredClone(seed) as any;
  const paths = rawBytesPaths(copy);
  if (paths.length > 0) {
    const p = paths[c.pick % paths.length]!;
    let holder = copy;
    for (const k of p.slice(0, -1)) holder = holder[k];
    const der = Buffer.from(holder.rawBytes, 'base64');
    der[c.pos % der.length] = c.value;
    holder.rawBytes = der.toString('base64');
  }
  return Buffer.from(JSON.stringify(copy));
}

export const trustedRootTarget = fuzzTarget<RootCase>({
  name: 'trust.trusted-root',
  entry: 'trust/trusted-root.ts loadTrustedRoot (bytes), parseTrustedRoot',
  arbitrary: rootCase,
  ciRuns: 100,
  run(c) {
    resultOrTyped(() => loadTrustedRoot(rootInput(c)));
  },
  show: (c) => rootInput(c).toString('utf8').slice(0, 4000),
});
