/**
 * Public keys (loading, key ids, the key kinds vouch trusts) and signature
 * verification, over whole messages and over a digest alone.
 *
 * Verification over a digest (the message itself unknown) is what the
 * conformance suite's `sha256:HEX` mode and cosign's blob digests need. Node's
 * crypto.verify always hashes its input (even with a null algorithm it hashes
 * EC and RSA input with SHA-256), so:
 *   - ECDSA P-256 / P-384 / P-521: the verification equation in BigInt arithmetic
 *     (Jacobian coordinates, Shamir's trick), per SEC 1 §4.1.4;
 *   - RSA PKCS#1 v1.5: s^e mod n and a byte-exact comparison with the expected
 *     EMSA-PKCS1-v1_5 encoding of the DigestInfo (RFC 8017 §8.2.2);
 *   - RSA-PSS: EMSA-PSS-VERIFY (RFC 8017 §9.1.2), MGF1 with the same hash, salt
 *     length recovered from the encoding (as OpenSSL's and Go's verifiers do).
 *     An RSA key verifies either padding (an `rsa-pss` key only PSS).
 * Ed25519 signs the message, never a digest (Ed25519ph is another scheme): refused.
 */
import { createHash, createPublicKey, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { ASN1Obj } from '@sigstore/core';
import { TrustInputError } from './reasons.js';

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';

const DIGEST_LENGTH: Record<DigestAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** Thrown when the key type cannot verify a prehashed digest (Ed25519, RSA-PSS, other curves). */
export class UnsupportedPrehashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedPrehashError';
  }
}

/** A public key from a KeyObject, PEM text, or DER SPKI bytes (PEM bytes too). Throws TrustInputError INVALID_KEY. */
export function toKeyObject(key: KeyObject | string | Uint8Array): KeyObject {
  if (typeof key === 'object' && 'asymmetricKeyType' in key && typeof (key as KeyObject).export === 'function') return key as KeyObject;
  try {
    if (typeof key === 'string') return createPublicKey(key);
    const b = Buffer.from(key as Uint8Array);
    if (b.subarray(0, 11).toString('latin1') === '-----BEGIN ') return createPublicKey(b.toString('utf8'));
    return createPublicKey({ key: b, format: 'der', type: 'spki' });
  } catch (e) {
    throw new TrustInputError('INVALID_KEY', `not a public key: ${(e as Error).message}`);
  }
}

export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa' | 'ed25519';

/** A public key vouch trusts as a signer (trust file, cosign signatures), described once. */
export interface PublicKeyInfo {
  key: KeyObject;
  algorithm: KeyAlgorithm;
  /** keyIdOf(key): sha256 of the SPKI DER, hex. */
  keyId: string;
  /** The SPKI DER, for comparisons. */
  der: Buffer;
}

/**
 * A signer key of a kind cosign signs with: ECDSA P-256 / P-384 / P-521, RSA of 2048
 * bits or more, Ed25519. Anything else (other curves, small RSA, DSA) throws
 * TrustInputError INVALID_KEY, as does input that is not a public key.
 */
export function describeKey(input: KeyObject | string | Uint8Array): PublicKeyInfo {
  const key = toKeyObject(input);
  if (key.type !== 'public') throw new TrustInputError('INVALID_KEY', 'not a public key');
  const type = key.asymmetricKeyType;
  let algorithm: KeyAlgorithm;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') algorithm = 'ecdsa-p256';
    else if (curve === 'secp384r1' || curve === 'P-384') algorithm = 'ecdsa-p384';
    else if (curve === 'secp521r1' || curve === 'P-521') algorithm = 'ecdsa-p521';
    else throw new TrustInputError('INVALID_KEY', `unsupported ECDSA curve ${String(curve)} (P-256, P-384 or P-521 only)`);
  } else if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new TrustInputError('INVALID_KEY', `RSA key of ${bits} bits is too small (2048 at least)`);
    algorithm = 'rsa';
  } else if (type === 'ed25519') {
    algorithm = 'ed25519';
  } else {
    throw new TrustInputError('INVALID_KEY', `unsupported key type ${String(type)} (ECDSA P-256/P-384, RSA or Ed25519)`);
  }
  const der = key.export({ format: 'der', type: 'spki' });
  return { key, algorithm, keyId: createHash('sha256').update(der).digest('hex'), der };
}

/**
 * Does `signature` sign the whole `message` under `key`? ECDSA and RSA
 * (PKCS#1 v1.5) with SHA-256 as cosign and Rekor sign, SHA-384 first for a
 * P-384 key; Ed25519 / Ed448 pure. Never throws: a malformed signature is
 * simply not valid.
 */
export function verifyMessage(key: KeyObject | PublicKeyInfo, message: Uint8Array, signature: Uint8Array): boolean {
  const k = (key as PublicKeyInfo).keyId !== undefined ? (key as PublicKeyInfo).key : (key as KeyObject);
  const t = k.asymmetricKeyType;
  const curve = t === 'ec' ? k.asymmetricKeyDetails?.namedCurve : undefined;
  const hashes = t === 'ed25519' || t === 'ed448' ? [null] : curve === 'secp384r1' || curve === 'P-384' ? ['sha384', 'sha256'] : curve === 'secp521r1' || curve === 'P-521' ? ['sha512', 'sha256'] : ['sha256'];
  for (const h of hashes) {
    try {
      if (cryptoVerify(h, message, k, signature)) return true;
    } catch {
      /* malformed signature for this key type */
    }
  }
  return false;
}

/** Key fingerprint: sha256 of the SubjectPublicKeyInfo DER, lowercase hex. */
export function keyIdOf(publicKey: KeyObject | string | Uint8Array): string {
  const k = toKeyObject(publicKey);
  return createHash('sha256').update(k.export({ type: 'spki', format: 'der' })).digest('hex');
}

/**
 * Verifies `signature` over the message whose `algorithm` digest is `digest`.
 * Returns false for a signature that does not verify (or is malformed); throws
 * UnsupportedPrehashError when the key type cannot do digest verification.
 */
export function verifyPrehashed(
  publicKey: KeyObject | string | Uint8Array,
  algorithm: DigestAlgorithm,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  const key = toKeyObject(publicKey);
  if (!(algorithm in DIGEST_LENGTH)) throw new UnsupportedPrehashError(`unsupported digest algorithm ${String(algorithm)}`);
  if (digest.length !== DIGEST_LENGTH[algorithm]) return false;
  switch (key.asymmetricKeyType) {
    case 'ec':
      return verifyEcdsaPrehashed(key, digest, signature);
    case 'rsa':
      return verifyRsaPkcs1Prehashed(key, algorithm, digest, signature) || verifyRsaPssPrehashed(key, algorithm, digest, signature);
    case 'rsa-pss':
      return verifyRsaPssPrehashed(key, algorithm, digest, signature);
    default:
      throw new UnsupportedPrehashError(`a ${key.asymmetricKeyType ?? 'unknown'} key cannot verify a signature over a digest; the artifact's bytes are needed`);
  }
}

// ---------------------------------------------------------------- ECDSA

interface Curve {
  p: bigint;
  a: bigint;
  b: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
  bytes: number;
}

const h = (s: string) => BigInt(`0x${s}`);
const P256: Curve = {
  p: h('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff'),
  a: h('ffffffff00000001000000000000000000000000fffffffffffffffffffffffc'),
  b: h('5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b'),
  n: h('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  gx: h('6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296'),
  gy: h('4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5'),
  bytes: 32,
};
const P384: Curve = {
  p: h('fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff'),
  a: h('fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc'),
  b: h('b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef'),
  n: h('ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
  gx: h('aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7'),
  gy: h('3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f'),
  bytes: 48,
};
const P521: Curve = {
  p: (1n << 521n) - 1n,
  a: (1n << 521n) - 4n,
  b: h('0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00'),
  n: h('01ff' + 'ffffffff'.repeat(7) + 'fffffffa' + '51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409'),
  gx: h('00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66'),
  gy: h('011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650'),
  bytes: 66,
};
const CURVES: Record<string, Curve> = { 'P-256': P256, 'P-384': P384, 'P-521': P521 };

/** For tests: the curve constants, so that they can be checked (G on the curve, n·G = O). */
export const _curves = CURVES;

const mod = (a: bigint, m: bigint) => {
  const r = a % m;
  return r < 0n ? r + m : r;
};

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

/** Inverse modulo a prime. */
const modInv = (a: bigint, m: bigint) => modPow(a, m - 2n, m);

type Jacobian = [bigint, bigint, bigint]; // Z = 0: point at infinity

function jDouble(c: Curve, [x1, y1, z1]: Jacobian): Jacobian {
  const { p } = c;
  if (z1 === 0n || y1 === 0n) return [1n, 1n, 0n];
  // a = -3 for all three curves: dbl-2001-b.
  const delta = (z1 * z1) % p;
  const gamma = (y1 * y1) % p;
  const beta = (x1 * gamma) % p;
  const alpha = mod(3n * (x1 - delta) * (x1 + delta), p);
  const x3 = mod(alpha * alpha - 8n * beta, p);
  const z3 = mod((y1 + z1) * (y1 + z1) - gamma - delta, p);
  const y3 = mod(alpha * (4n * beta - x3) - 8n * gamma * gamma, p);
  return [x3, y3, z3];
}

function jAdd(c: Curve, a: Jacobian, b: Jacobian): Jacobian {
  const { p } = c;
  const [x1, y1, z1] = a;
  const [x2, y2, z2] = b;
  if (z1 === 0n) return b;
  if (z2 === 0n) return a;
  const z1z1 = (z1 * z1) % p;
  const z2z2 = (z2 * z2) % p;
  const u1 = (x1 * z2z2) % p;
  const u2 = (x2 * z1z1) % p;
  const s1 = (((y1 * z2) % p) * z2z2) % p;
  const s2 = (((y2 * z1) % p) * z1z1) % p;
  if (u1 === u2) return s1 === s2 ? jDouble(c, a) : [1n, 1n, 0n];
  const hh = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  const h2 = (hh * hh) % p;
  const h3 = (hh * h2) % p;
  const u1h2 = (u1 * h2) % p;
  const x3 = mod(r * r - h3 - 2n * u1h2, p);
  const y3 = mod(r * (u1h2 - x3) - s1 * h3, p);
  const z3 = (((hh * z1) % p) * z2) % p;
  return [x3, y3, z3];
}

function onCurve(c: Curve, x: bigint, y: bigint): boolean {
  if (x < 0n || x >= c.p || y < 0n || y >= c.p) return false;
  return mod(y * y - (x * x * x + c.a * x + c.b), c.p) === 0n;
}

/** u1·G + u2·Q, affine x coordinate, or null for the point at infinity. */
function shamir(c: Curve, u1: bigint, u2: bigint, qx: bigint, qy: bigint): bigint | null {
  const G: Jacobian = [c.gx, c.gy, 1n];
  const Q: Jacobian = [qx, qy, 1n];
  const GQ = jAdd(c, G, Q);
  let R: Jacobian = [1n, 1n, 0n];
  const bits = Math.max(u1.toString(2).length, u2.toString(2).length);
  for (let i = bits - 1; i >= 0; i--) {
    R = jDouble(c, R);
    const b1 = (u1 >> BigInt(i)) & 1n;
    const b2 = (u2 >> BigInt(i)) & 1n;
    if (b1 && b2) R = jAdd(c, R, GQ);
    else if (b1) R = jAdd(c, R, G);
    else if (b2) R = jAdd(c, R, Q);
  }
  if (R[2] === 0n) return null;
  const zinv = modInv(R[2], c.p);
  return (R[0] * ((zinv * zinv) % c.p)) % c.p;
}

/** Strict DER `SEQUENCE { INTEGER r, INTEGER s }`; null when malformed. */
export function parseDerEcdsaSignature(sig: Uint8Array): { r: bigint; s: bigint } | null {
  const b = Buffer.from(sig);
  let i = 0;
  const readLen = (): number | null => {
    if (i >= b.length) return null;
    const first = b[i++]!;
    if (first < 0x80) return first;
    const n = first & 0x7f;
    if (n === 0 || n > 2 || i + n > b.length) return null;
    let len = 0;
    for (let k = 0; k < n; k++) len = (len << 8) | b[i++]!;
    if (len < 0x80 || (n === 2 && len < 0x100)) return null; // non-minimal length
    return len;
  };
  const readInt = (): bigint | null => {
    if (b[i++] !== 0x02) return null;
    const len = readLen();
    if (len === null || len === 0 || i + len > b.length) return null;
    const v = b.subarray(i, i + len);
    i += len;
    if (v[0]! & 0x80) return null; // negative
    if (len > 1 && v[0] === 0 && !(v[1]! & 0x80)) return null; // non-minimal
    return BigInt(`0x${v.toString('hex')}`);
  };
  if (b[i++] !== 0x30) return null;
  const seqLen = readLen();
  if (seqLen === null || i + seqLen !== b.length) return null;
  const r = readInt();
  const s = r === null ? null : readInt();
  if (r === null || s === null || i !== b.length) return null;
  return { r, s };
}

function verifyEcdsaPrehashed(key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const jwk = key.export({ format: 'jwk' });
  const curve = jwk.crv ? CURVES[jwk.crv] : undefined;
  if (!curve || !jwk.x || !jwk.y) throw new UnsupportedPrehashError(`unsupported EC curve ${jwk.crv ?? '?'} (P-256, P-384 and P-521 are supported)`);
  const qx = BigInt(`0x${Buffer.from(jwk.x, 'base64url').toString('hex')}`);
  const qy = BigInt(`0x${Buffer.from(jwk.y, 'base64url').toString('hex')}`);
  if (!onCurve(curve, qx, qy)) return false;
  const rs = parseDerEcdsaSignature(signature);
  if (!rs) return false;
  const { r, s } = rs;
  const { n } = curve;
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  // bits2int: the leftmost bitlen(n) bits of the digest.
  const nBits = n.toString(2).length;
  let e = BigInt(`0x${Buffer.from(digest).toString('hex') || '0'}`);
  const dBits = digest.length * 8;
  if (dBits > nBits) e >>= BigInt(dBits - nBits);
  const w = modInv(s, n);
  const u1 = (mod(e, n) * w) % n;
  const u2 = (r * w) % n;
  const x = shamir(curve, u1, u2, qx, qy);
  if (x === null) return false;
  return mod(x, n) === r;
}

// ---------------------------------------------------------------- RSA PKCS#1 v1.5

const DIGEST_INFO_PREFIX: Record<DigestAlgorithm, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

function verifyRsaPkcs1Prehashed(key: KeyObject, algorithm: DigestAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
  const jwk = key.export({ format: 'jwk' });
  if (!jwk.n || !jwk.e) return false;
  const nBuf = Buffer.from(jwk.n, 'base64url');
  const n = BigInt(`0x${nBuf.toString('hex')}`);
  const e = BigInt(`0x${Buffer.from(jwk.e, 'base64url').toString('hex')}`);
  const k = Math.ceil(n.toString(2).length / 8);
  if (signature.length !== k) return false;
  const s = BigInt(`0x${Buffer.from(signature).toString('hex')}`);
  if (s >= n) return false;
  const m = modPow(s, e, n);
  const em = Buffer.from(m.toString(16).padStart(k * 2, '0'), 'hex');
  const t = Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[algorithm], 'hex'), Buffer.from(digest)]);
  const psLen = k - t.length - 3;
  if (psLen < 8) return false;
  const expected = Buffer.concat([Buffer.from([0x00, 0x01]), Buffer.alloc(psLen, 0xff), Buffer.from([0x00]), t]);
  return em.length === expected.length && timingSafeEqual(em, expected);
}

// ---------------------------------------------------------------- RSA-PSS

/** MGF1 (RFC 8017 §B.2.1) with `alg`. */
function mgf1(alg: DigestAlgorithm, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let have = 0;
  for (let counter = 0; have < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(alg).update(seed).update(c).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

function verifyRsaPssPrehashed(key: KeyObject, algorithm: DigestAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
  // An rsa-pss key may pin its hash: a digest of another algorithm is not what it signs.
  const pinned = key.asymmetricKeyDetails?.hashAlgorithm;
  if (pinned && pinned.replace('-', '').toLowerCase() !== algorithm) return false;
  const jwk = rsaJwk(key);
  if (!jwk?.n || !jwk.e) return false;
  const n = BigInt(`0x${Buffer.from(jwk.n, 'base64url').toString('hex')}`);
  const e = BigInt(`0x${Buffer.from(jwk.e, 'base64url').toString('hex')}`);
  const modBits = n.toString(2).length;
  const k = Math.ceil(modBits / 8);
  if (signature.length !== k) return false;
  const s = BigInt(`0x${Buffer.from(signature).toString('hex')}`);
  if (s >= n) return false;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const m = modPow(s, e, n);
  if (m.toString(2).length > emBits) return false;
  const em = Buffer.from(m.toString(16).padStart(emLen * 2, '0'), 'hex');
  const hLen = DIGEST_LENGTH[algorithm];
  if (emLen < hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const hash = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 8 * emLen - emBits;
  const topMask = topBits === 0 ? 0 : (0xff << (8 - topBits)) & 0xff;
  if ((maskedDb[0]! & topMask) !== 0) return false;
  const db = Buffer.from(mgf1(algorithm, hash, maskedDb.length).map((b, i) => b ^ maskedDb[i]!));
  db[0] = db[0]! & ~topMask;
  // DB = PS (zeros) || 0x01 || salt
  let i = 0;
  while (i < db.length && db[i] === 0) i++;
  if (i >= db.length || db[i] !== 0x01) return false;
  const salt = db.subarray(i + 1);
  const expected = createHash(algorithm).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  return timingSafeEqual(expected, hash);
}

/** n and e of an RSA or RSA-PSS key (Node exports no JWK for rsa-pss keys: read the RSAPublicKey inside the SPKI). */
function rsaJwk(key: KeyObject): { n?: string; e?: string } | undefined {
  if (key.asymmetricKeyType === 'rsa') return key.export({ format: 'jwk' });
  try {
    const spki = ASN1Obj.parseBuffer(key.export({ format: 'der', type: 'spki' }) as Buffer<ArrayBuffer>);
    const bits = spki.subs[1]!.value; // BIT STRING: unused-bits byte, then RSAPublicKey
    return createPublicKey({ key: bits.subarray(1), format: 'der', type: 'pkcs1' }).export({ format: 'jwk' });
  } catch {
    return undefined;
  }
}
