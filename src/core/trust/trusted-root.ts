/**
 * The Sigstore trusted root (protobuf-JSON `TrustedRoot`), validated strictly
 * and turned once into @sigstore/verify's TrustMaterial.
 *
 * Stricter than @sigstore/verify's toTrustMaterial: a `validFor` without
 * `start` (on a log key, CT key, CA or TSA) is malformed, not "valid since the
 * beginning of time"; a CA or TSA without `validFor` is malformed too (the
 * protobuf says the range is required; only a PublicKey's is optional).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { VouchError } from '../errors.js';
import { LOCAL_FILE_LIMITS, LocalFileError, readLocalFileSync } from '../util/local-file.js';
import { memoizeCertificate, parseCertificate } from './certificate.js';
import { strictBase64, parseRfc3339 } from './encoding.js';
import { TrustInputError } from './reasons.js';

export interface TimeRange {
  start: Date;
  /** null = open-ended. Both ends are inclusive. */
  end: Date | null;
}

export interface TransparencyLog {
  baseUrl: string;
  /** Host name of baseUrl (the checkpoint key name / origin prefix). */
  hostname: string;
  logId: Buffer;
  /** For checkpoint key hints when the root gives one; else logId. */
  checkpointKeyId: Buffer;
  keyDetails: string;
  publicKey: KeyObject;
  /** Raw key bytes as given (DER). */
  rawKey: Buffer;
  validFor: TimeRange;
}

export interface CertificateAuthorityInfo {
  uri: string;
  certChain: X509Certificate[];
  validFor: TimeRange;
}

export interface TrustedRoot {
  readonly mediaType: string;
  readonly tlogs: readonly TransparencyLog[];
  readonly ctlogs: readonly TransparencyLog[];
  readonly certificateAuthorities: readonly CertificateAuthorityInfo[];
  readonly timestampAuthorities: readonly CertificateAuthorityInfo[];
  /** Where it came from (a path, or the @sigstore/tuf seed). */
  readonly source: string;
  /** Built once; verification reuses it (the public-key finder is swapped per call). */
  readonly trustMaterial: TrustMaterial;
}

const KNOWN_MEDIA_TYPES = new Set(['application/vnd.dev.sigstore.trustedroot+json;version=0.1', 'application/vnd.dev.sigstore.trustedroot.v0.2+json']);
const END_OF_TIME = new Date(8640000000000000);
const PKCS1_KEY_DETAILS = new Set([
  'PKCS1_RSA_PKCS1V5',
  'PKIX_RSA_PKCS1V5', // deprecated name, kept by @sigstore/verify for PKCS#1 raw keys
]);

function bad(where: string, what: string): never {
  throw new TrustInputError('INVALID_TRUSTED_ROOT', `trusted root ${where}: ${what} (malformed)`);
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(where, 'expected an object');
  return v as Record<string, unknown>;
}

function arr(v: unknown, where: string, required = false): unknown[] {
  if (v === undefined && !required) return [];
  if (!Array.isArray(v)) bad(where, 'expected an array');
  return v;
}

function bytes(v: unknown, where: string): Buffer {
  if (typeof v !== 'string' || v.length === 0) bad(where, 'expected non-empty base64');
  const b = strictBase64(v);
  if (b === null) bad(where, 'invalid base64');
  return b;
}

function timeRange(v: unknown, where: string, required: boolean): TimeRange {
  if (v === undefined || v === null) {
    if (required) bad(where, 'validFor is missing');
    return { start: new Date(0), end: null };
  }
  const o = obj(v, where);
  if (o.start === undefined || o.start === null) bad(where, 'validFor has no start');
  const start = parseRfc3339(o.start);
  if (!start) bad(`${where}.start`, 'not an RFC 3339 timestamp');
  let end: Date | null = null;
  if (o.end !== undefined && o.end !== null) {
    end = parseRfc3339(o.end);
    if (!end) bad(`${where}.end`, 'not an RFC 3339 timestamp');
    if (end < start) bad(where, 'validFor ends before it starts');
  }
  return { start, end };
}

function parseLog(v: unknown, where: string): TransparencyLog {
  const o = obj(v, where);
  const baseUrl = typeof o.baseUrl === 'string' ? o.baseUrl : bad(where, 'baseUrl is missing');
  let hostname: string;
  try {
    hostname = new URL(baseUrl).hostname;
  } catch {
    bad(`${where}.baseUrl`, 'not a URL');
  }
  const pk = obj(o.publicKey, `${where}.publicKey`);
  const rawKey = bytes(pk.rawBytes, `${where}.publicKey.rawBytes`);
  const keyDetails = typeof pk.keyDetails === 'string' ? pk.keyDetails : 'PUBLIC_KEY_DETAILS_UNSPECIFIED';
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: rawKey, format: 'der', type: PKCS1_KEY_DETAILS.has(keyDetails) ? 'pkcs1' : 'spki' });
  } catch (e) {
    bad(`${where}.publicKey.rawBytes`, `not a public key (${(e as Error).message})`);
  }
  const logId = bytes(obj(o.logId, `${where}.logId`).keyId, `${where}.logId.keyId`);
  const checkpointKeyId =
    o.checkpointKeyId === undefined || o.checkpointKeyId === null ? logId : bytes(obj(o.checkpointKeyId, `${where}.checkpointKeyId`).keyId, `${where}.checkpointKeyId.keyId`);
  return { baseUrl, hostname, logId, checkpointKeyId, keyDetails, publicKey, rawKey, validFor: timeRange(pk.validFor, `${where}.publicKey.validFor`, false) };
}

function parseCA(v: unknown, where: string): CertificateAuthorityInfo {
  const o = obj(v, where);
  const chain = obj(o.certChain, `${where}.certChain`);
  const certs = arr(chain.certificates, `${where}.certChain.certificates`, true);
  if (certs.length === 0) bad(`${where}.certChain.certificates`, 'empty');
  const certChain = certs.map((c, i) => {
    const der = bytes(obj(c, `${where}.certChain.certificates[${i}]`).rawBytes, `${where}.certChain.certificates[${i}].rawBytes`);
    try {
      return memoizeCertificate(parseCertificate(der), true);
    } catch (e) {
      bad(`${where}.certChain.certificates[${i}]`, `not an X.509 certificate (${(e as Error).message})`);
    }
  });
  return { uri: typeof o.uri === 'string' ? o.uri : '', certChain, validFor: timeRange(o.validFor, `${where}.validFor`, true) };
}

function toMaterial(root: Omit<TrustedRoot, 'trustMaterial'>): TrustMaterial {
  const range = (r: TimeRange) => ({ start: r.start, end: r.end ?? END_OF_TIME });
  const logs = (ls: readonly TransparencyLog[]) =>
    ls.map((l) => ({ baseURL: l.baseUrl, logID: l.checkpointKeyId, publicKey: l.publicKey, validFor: range(l.validFor) }));
  const cas = (cs: readonly CertificateAuthorityInfo[]) => cs.map((c) => ({ certChain: c.certChain, validFor: range(c.validFor) }));
  return {
    certificateAuthorities: cas(root.certificateAuthorities),
    timestampAuthorities: cas(root.timestampAuthorities),
    // SETs are looked up by logId, checkpoints by checkpointKeyId: @sigstore/verify
    // keys both by one `logID` (it prefers checkpointKeyId); vouch checks SETs by logId itself.
    tlogs: logs(root.tlogs),
    ctlogs: root.ctlogs.map((l) => ({ baseURL: l.baseUrl, logID: l.logId, publicKey: l.publicKey, validFor: range(l.validFor) })),
    publicKey: (hint: string) => {
      throw Object.assign(new Error(`no public key is trusted (hint ${hint})`), { code: 'PUBLIC_KEY_ERROR' });
    },
  };
}

/** Validates a parsed trusted_root.json. */
export function parseTrustedRoot(json: unknown, source = '(inline)'): TrustedRoot {
  const o = obj(json, 'document');
  const mediaType = typeof o.mediaType === 'string' ? o.mediaType : bad('mediaType', 'missing');
  if (!KNOWN_MEDIA_TYPES.has(mediaType)) bad('mediaType', `unsupported ${JSON.stringify(mediaType)}`);
  const base = {
    mediaType,
    source,
    tlogs: arr(o.tlogs, 'tlogs').map((t, i) => parseLog(t, `tlogs[${i}]`)),
    ctlogs: arr(o.ctlogs, 'ctlogs').map((t, i) => parseLog(t, `ctlogs[${i}]`)),
    certificateAuthorities: arr(o.certificateAuthorities, 'certificateAuthorities').map((c, i) => parseCA(c, `certificateAuthorities[${i}]`)),
    timestampAuthorities: arr(o.timestampAuthorities, 'timestampAuthorities').map((c, i) => parseCA(c, `timestampAuthorities[${i}]`)),
  };
  return Object.freeze({ ...base, trustMaterial: toMaterial(base) });
}

/**
 * Loads a trusted root: a path to trusted_root.json, its bytes, or the parsed
 * JSON; with no argument, the Sigstore public-good root.
 */
export function loadTrustedRoot(source?: unknown): TrustedRoot {
  if (source === undefined) return defaultTrustedRoot();
  if (typeof source === 'string') {
    let text: string;
    try {
      text = readLocalFileSync(source, { what: 'trusted root', max: LOCAL_FILE_LIMITS.trustedRoot }).toString('utf8');
    } catch (e) {
      throw new VouchError((e as LocalFileError).code ?? 'NOT_FOUND', `cannot read trusted root ${source}: ${(e as LocalFileError).reason ?? (e as Error).message}`);
    }
    return parseTrustedRoot(parseJson(text, source), source);
  }
  if (source instanceof Uint8Array) return parseTrustedRoot(parseJson(Buffer.from(source).toString('utf8'), '(bytes)'), '(bytes)');
  return parseTrustedRoot(source);
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TrustInputError('INVALID_TRUSTED_ROOT', `trusted root ${where}: not JSON (${(e as Error).message})`);
  }
}

const SEED_REPO = 'https://tuf-repo-cdn.sigstore.dev';
let defaultRoot: TrustedRoot | undefined;

/**
 * The Sigstore public-good trusted root as shipped in @sigstore/tuf's
 * seeds.json (the TUF target `trusted_root.json`), read from the installed
 * package at run time. Parsed once per process.
 */
export function defaultTrustedRoot(): TrustedRoot {
  if (defaultRoot) return defaultRoot;
  const require = createRequire(import.meta.url);
  let seedsPath: string;
  try {
    seedsPath = require.resolve('@sigstore/tuf/seeds.json');
  } catch (e) {
    throw new TrustInputError('INVALID_TRUSTED_ROOT', `cannot find @sigstore/tuf's seeds.json: ${(e as Error).message}`);
  }
  const seeds = parseJson(readFileSync(seedsPath, 'utf8'), seedsPath) as Record<string, { targets?: Record<string, string> }>;
  const target = seeds?.[SEED_REPO]?.targets?.['trusted_root.json'];
  if (typeof target !== 'string') throw new TrustInputError('INVALID_TRUSTED_ROOT', `${seedsPath}: no trusted_root.json target for ${SEED_REPO}`);
  const text = Buffer.from(target, 'base64').toString('utf8');
  defaultRoot = parseTrustedRoot(parseJson(text, seedsPath), `${seedsPath} (${SEED_REPO} trusted_root.json)`);
  return defaultRoot;
}

/** The log in the root whose log id (or checkpoint key id) is `logId`. */
export function findTlog(root: TrustedRoot, logId: Buffer): TransparencyLog | undefined {
  return root.tlogs.find((t) => t.logId.equals(logId)) ?? root.tlogs.find((t) => t.checkpointKeyId.equals(logId));
}

export function inRange(r: TimeRange, at: Date): boolean {
  return r.start.getTime() <= at.getTime() && (r.end === null || at.getTime() <= r.end.getTime());
}

/**
 * A trusted root from bare PEMs, as containers-image's sigstore configuration
 * gives them: Fulcio CA certificates (a chain file: root and intermediates in
 * any order, each one an authority), Rekor public keys (log id = sha256 of the
 * SPKI DER, as Rekor v1 names its log) and TSA certificates (one chain). All
 * valid since the epoch, with no end: the files carry no validity windows.
 * Validated exactly as a trusted_root.json is.
 */
export function trustedRootFromPems(opts: { caPems?: string[]; rekorKeyPems?: string[]; tsaPems?: string[]; ctKeyPems?: string[] }, source = 'PEM anchors'): TrustedRoot {
  const always = { start: new Date(0).toISOString() };
  const der = (pem: string) => [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => m[0].replace(/-----[A-Z ]+-----|\s+/g, ''));
  const chainOf = (certs: string[]) => ({ certificates: certs.map((rawBytes) => ({ rawBytes })) });
  const keyDer = (pem: string, i: number): Buffer => {
    try {
      return createPublicKey(pem).export({ format: 'der', type: 'spki' });
    } catch (e) {
      throw new TrustInputError('INVALID_TRUSTED_ROOT', `${source}: Rekor key ${i} is not a public key (${(e as Error).message})`);
    }
  };
  // A transparency or CT log named by its key: log id = sha256 of the SPKI DER (as RFC 6962 and Rekor name a log).
  const logEntry = (pem: string, i: number, baseUrl: string) => {
    const raw = keyDer(pem, i);
    return {
      baseUrl,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: raw.toString('base64'), keyDetails: 'PUBLIC_KEY_DETAILS_UNSPECIFIED', validFor: always },
      logId: { keyId: createHash('sha256').update(raw).digest('base64') },
    };
  };
  const doc = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: (opts.rekorKeyPems ?? []).map((pem, i) => logEntry(pem, i, 'https://rekor.invalid')),
    certificateAuthorities: (opts.caPems ?? []).flatMap((pem) => der(pem).map((c) => ({ uri: '', certChain: chainOf([c]), validFor: always }))),
    timestampAuthorities: (opts.tsaPems ?? []).map((pem) => ({ uri: '', certChain: chainOf(der(pem)), validFor: always })),
    // CT logs (for the SCTs of Fulcio certificates): log id = sha256 of the SPKI DER, as RFC 6962 names a log.
    ctlogs: (opts.ctKeyPems ?? []).map((pem, i) => logEntry(pem, i, 'https://ctfe.invalid')),
  };
  return parseTrustedRoot(doc, source);
}
