/**
 * Public keys as the trust file and signatures carry them (PEM SPKI: ECDSA
 * P-256/P-384, RSA, Ed25519), their key id (sha256 of the SPKI DER, hex, as
 * cosign and the trust file report it), and signature checks over whole
 * messages with the hash cosign uses for each key type.
 */
import { createHash, createPublicKey, verify as cryptoVerify, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';

export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa' | 'ed25519';

export interface PublicKeyInfo {
  key: KeyObject;
  algorithm: KeyAlgorithm;
  /** sha256 of the SPKI DER, hex. */
  keyId: string;
  /** The SPKI DER, for comparisons. */
  der: Buffer;
}

/** Parse a PEM (or DER) public key; undefined when it is not one of the supported kinds. Throws on unparsable input. */
export function parsePublicKey(input: string | Buffer): PublicKeyInfo {
  const key = typeof input === 'string' || /^-----BEGIN/.test(input.subarray(0, 20).toString('latin1'))
    ? createPublicKey(typeof input === 'string' ? input : input.toString('utf8'))
    : createPublicKey({ key: input, format: 'der', type: 'spki' });
  return describeKey(key);
}

export function describeKey(key: KeyObject): PublicKeyInfo {
  const type = key.asymmetricKeyType;
  let algorithm: KeyAlgorithm;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') algorithm = 'ecdsa-p256';
    else if (curve === 'secp384r1' || curve === 'P-384') algorithm = 'ecdsa-p384';
    else throw new Error(`unsupported ECDSA curve ${String(curve)} (P-256 or P-384 only)`);
  } else if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new Error(`RSA key of ${bits} bits is too small (2048 at least)`);
    algorithm = 'rsa';
  } else if (type === 'ed25519') {
    algorithm = 'ed25519';
  } else {
    throw new Error(`unsupported key type ${String(type)} (ECDSA P-256/P-384, RSA or Ed25519)`);
  }
  const der = key.export({ format: 'der', type: 'spki' });
  return { key, algorithm, keyId: createHash('sha256').update(der).digest('hex'), der };
}

/** The public key of a certificate (PEM or DER). */
export function certificateKey(cert: string | Buffer): PublicKeyInfo {
  return describeKey(new NodeX509(cert).publicKey);
}

/**
 * Does `signature` sign `message` under `info`? ECDSA and RSA (PKCS#1 v1.5)
 * with SHA-256 as cosign signs, or the curve's own hash for P-384; Ed25519 pure.
 * Never throws: a malformed signature is simply not valid.
 */
export function verifyMessage(info: PublicKeyInfo, message: Uint8Array, signature: Uint8Array): boolean {
  const hashes = info.algorithm === 'ed25519' ? [null] : info.algorithm === 'ecdsa-p384' ? ['sha384', 'sha256'] : ['sha256'];
  for (const h of hashes) {
    try {
      if (cryptoVerify(h, message, info.key, signature)) return true;
    } catch {
      /* malformed signature for this key type */
    }
  }
  return false;
}

/** Strict standard base64 (padding required, no whitespace or URL alphabet); undefined when malformed. */
export function decodeBase64Strict(s: unknown): Buffer<ArrayBuffer> | undefined {
  if (typeof s !== 'string') return undefined;
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : undefined;
}
