/**
 * The trust anchors vouch verifies cosign's legacy signatures against, read
 * from a Sigstore trusted root (trusted_root.json, protobuf JSON form): Fulcio
 * CAs, Rekor log keys and timestamp authorities, each with its validity window.
 * Also built from bare PEM files (a Fulcio CA, a rekor.pub) for the
 * containers-image style of configuration.
 *
 * A `validFor` without `start` is malformed (the library would read it as
 * "valid since the beginning of time"): refused.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { X509Certificate } from '@sigstore/core';
import { VouchError } from '../errors.js';
import { decodeBase64Strict, parsePublicKey, type PublicKeyInfo } from './keys.js';

export interface Window {
  start: Date;
  end?: Date;
}

export interface CaAnchor {
  /** Leaf-most (issuing) certificate first, root last. */
  certs: X509Certificate[];
  validFor: Window;
  uri?: string;
}

export interface LogAnchor {
  /** hex sha256 of the log key's SPKI DER (Rekor v1 log id). */
  logId: string;
  key: PublicKeyInfo;
  validFor: Window;
  baseUrl?: string;
}

export interface TrustAnchors {
  cas: CaAnchor[];
  tlogs: LogAnchor[];
  tsas: CaAnchor[];
  /** The trusted root document these came from, for the Sigstore bundle verifier; undefined when built from PEMs. */
  document?: unknown;
  /** Where it came from, for messages. */
  source: string;
}

export function withinWindow(w: Window, at: Date): boolean {
  return at.getTime() >= w.start.getTime() && (w.end === undefined || at.getTime() <= w.end.getTime());
}

function bad(source: string, what: string): never {
  throw new VouchError('USAGE', `${source}: malformed trusted root: ${what}`);
}

function window(v: unknown, source: string, where: string): Window {
  if (v === undefined || v === null) return { start: new Date(0) };
  const o = v as { start?: unknown; end?: unknown };
  if (typeof o !== 'object' || typeof o.start !== 'string') bad(source, `${where}.validFor has no start`);
  const start = new Date(o.start);
  if (Number.isNaN(start.getTime())) bad(source, `${where}.validFor.start is not a date`);
  const w: Window = { start };
  if (o.end !== undefined) {
    if (typeof o.end !== 'string' || Number.isNaN(new Date(o.end).getTime())) bad(source, `${where}.validFor.end is not a date`);
    w.end = new Date(o.end);
  }
  return w;
}

function bytes(v: unknown, source: string, where: string): Buffer<ArrayBuffer> {
  const b = decodeBase64Strict(v);
  if (!b || b.length === 0) bad(source, `${where} is not base64`);
  return b;
}

function cas(list: unknown, source: string, field: string): CaAnchor[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) bad(source, `${field} is not an array`);
  return list.map((ca: any, i: number) => {
    const where = `${field}[${i}]`;
    const certs = ca?.certChain?.certificates;
    if (!Array.isArray(certs) || certs.length === 0) bad(source, `${where}.certChain has no certificates`);
    const parsed = certs.map((c: any, j: number) => {
      try {
        return X509Certificate.parse(bytes(c?.rawBytes, source, `${where}.certChain.certificates[${j}]`) as Buffer<ArrayBuffer>);
      } catch (e) {
        if (e instanceof VouchError) throw e;
        bad(source, `${where}.certChain.certificates[${j}] is not a certificate`);
      }
    });
    return { certs: parsed, validFor: window(ca.validFor, source, where), ...(typeof ca.uri === 'string' ? { uri: ca.uri } : {}) };
  });
}

/** Parse a trusted root document (already JSON-parsed). */
export function anchorsFromTrustedRoot(doc: unknown, source = 'trusted root'): TrustAnchors {
  if (!doc || typeof doc !== 'object') bad(source, 'not a JSON object');
  const d = doc as Record<string, unknown>;
  const tlogs: LogAnchor[] = [];
  const list = d['tlogs'] ?? [];
  if (!Array.isArray(list)) bad(source, 'tlogs is not an array');
  list.forEach((t: any, i: number) => {
    const where = `tlogs[${i}]`;
    const raw = bytes(t?.publicKey?.rawBytes, source, `${where}.publicKey.rawBytes`);
    let key: PublicKeyInfo;
    try {
      key = parsePublicKey(raw);
    } catch {
      // Keys we cannot use (e.g. a Rekor v2 Ed25519 note key in a form we do not read) do not anchor legacy SETs.
      return;
    }
    const logIdBytes = t?.logId?.keyId !== undefined ? bytes(t.logId.keyId, source, `${where}.logId.keyId`) : undefined;
    tlogs.push({
      logId: logIdBytes ? logIdBytes.toString('hex') : key.keyId,
      key,
      validFor: window(t?.publicKey?.validFor, source, `${where}.publicKey`),
      ...(typeof t?.baseUrl === 'string' ? { baseUrl: t.baseUrl } : {}),
    });
  });
  return { cas: cas(d['certificateAuthorities'], source, 'certificateAuthorities'), tlogs, tsas: cas(d['timestampAuthorities'], source, 'timestampAuthorities'), document: doc, source };
}

/** Anchors from bare PEMs: Fulcio CA certificates (a chain file: root and intermediates in any order) and Rekor public keys. */
export function anchorsFromPems(opts: { caPems?: string[]; rekorKeyPems?: string[]; tsaPems?: string[] }, source = 'PEM anchors'): TrustAnchors {
  const certsOf = (pem: string): X509Certificate[] =>
    [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => X509Certificate.parse(m[0]));
  return {
    cas: (opts.caPems ?? []).flatMap((p) => certsOf(p).map((c) => ({ certs: [c], validFor: { start: new Date(0) } }))),
    tlogs: (opts.rekorKeyPems ?? []).map((p) => {
      const key = parsePublicKey(p);
      return { logId: key.keyId, key, validFor: { start: new Date(0) } };
    }),
    tsas: (opts.tsaPems ?? []).map((p) => ({ certs: certsOf(p), validFor: { start: new Date(0) } })),
    source,
  };
}

export async function readTrustedRootFile(path: string): Promise<TrustAnchors> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new VouchError('NOT_FOUND', `${path}: cannot read trusted root (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new VouchError('USAGE', `${path}: trusted root is not valid JSON`);
  }
  return anchorsFromTrustedRoot(doc, path);
}

/** The Sigstore public-good trusted root shipped with @sigstore/tuf (its offline seed), as a document. */
export function publicGoodTrustedRootDocument(): unknown {
  const require = createRequire(import.meta.url);
  const seeds = require('@sigstore/tuf/seeds.json') as Record<string, { targets: Record<string, string> }>;
  const b64 = seeds['https://tuf-repo-cdn.sigstore.dev']?.targets['trusted_root.json'];
  if (!b64) throw new VouchError('NOT_FOUND', '@sigstore/tuf ships no trusted_root.json seed');
  return JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
}
