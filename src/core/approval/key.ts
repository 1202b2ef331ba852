/**
 * Approval signing keys: ECDSA P-256, the private key as encrypted PKCS#8 PEM
 * (mode 0600), the public key as SPKI PEM — what cosign and every Sigstore
 * verifier read.
 */
import { createCipheriv, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, scryptSync, type KeyObject } from 'node:crypto';
import { open } from 'node:fs/promises';
import { LOCAL_FILE_LIMITS, readLocalFile } from '../util/local-file.js';
import { resolve } from 'node:path';
import { VouchError } from '../errors.js';
import { keyIdOf } from '../trust/prehash.js';

export interface GeneratedKey {
  privatePath: string;
  publicPath: string;
  /** sha256 of the SPKI DER, hex: the bundle's key hint. */
  keyId: string;
}

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  // 'wx': never overwrite a key someone already has (a lost private key is not recoverable).
  let fh;
  try {
    fh = await open(path, 'wx', mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VouchError(code === 'EEXIST' ? 'USAGE' : 'NOT_FOUND', `${path}: ${code === 'EEXIST' ? 'already exists; not overwriting a key' : `cannot create (${code ?? 'error'})`}`);
  }
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A passphrase shorter than this is refused when a key is made: the file is what a thief guesses against. */
export const MIN_PASSPHRASE_LENGTH = 8;

/** scrypt as OpenSSL writes it by default (`openssl pkcs8 -topk8 -scrypt`): the largest cost it reads back (32 MiB limit). */
export const KEY_SCRYPT = { N: 16384, r: 8, p: 1 } as const;

const der = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
};
const seq = (...parts: Buffer[]): Buffer => der(0x30, ...parts);
const octets = (b: Buffer): Buffer => der(0x04, b);
const int = (v: number): Buffer => {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return der(0x02, Buffer.from(hex, 'hex'));
};
const OID = {
  pbes2: Buffer.from('06092a864886f70d01050d', 'hex'),
  scrypt: Buffer.from('06092b06010401da47040b', 'hex'),
  aes256cbc: Buffer.from('060960864801650304012a', 'hex'),
};

/**
 * PKCS#8 EncryptedPrivateKeyInfo, PBES2 with scrypt (RFC 7914 §7) and AES-256-CBC. Node's own export can only
 * write PBKDF2 with 2,048 iterations, cheap to guess offline; this is what `openssl pkcs8 -topk8 -scrypt`
 * writes, and Node, OpenSSL and cosign's PKCS#8 readers decrypt it.
 */
export function encryptPkcs8(plain: Buffer, passphrase: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = scryptSync(passphrase, salt, 32, { ...KEY_SCRYPT, maxmem: 64 << 20 });
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  const kdf = seq(OID.scrypt, seq(octets(salt), int(KEY_SCRYPT.N), int(KEY_SCRYPT.r), int(KEY_SCRYPT.p)));
  const info = seq(seq(OID.pbes2, seq(kdf, seq(OID.aes256cbc, octets(iv)))), octets(encrypted));
  return `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${info.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
}

export async function generateApprovalKey(prefix: string, passphrase: string): Promise<GeneratedKey> {
  if (passphrase.length === 0) throw new VouchError('USAGE', 'key generate: the passphrase is empty (set VOUCH_KEY_PASSWORD or type one)');
  if ([...passphrase].length < MIN_PASSPHRASE_LENGTH) throw new VouchError('USAGE', `key generate: the passphrase is shorter than ${MIN_PASSPHRASE_LENGTH} characters (a stolen key file is only as safe as its passphrase)`);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const priv = encryptPkcs8(privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer, passphrase);
  const pub = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const privatePath = resolve(`${prefix}.key`);
  const publicPath = resolve(`${prefix}.pub`);
  await writeNew(privatePath, priv, 0o600);
  await writeNew(publicPath, pub, 0o644);
  return { privatePath, publicPath, keyId: keyIdOf(publicKey) };
}

/** Whether the key file is encrypted (asks for a passphrase); an unreadable file is one line naming it. */
export async function keyNeedsPassphrase(path: string): Promise<boolean> {
  const pem = (await readLocalFile(path, { what: 'key', max: LOCAL_FILE_LIMITS.key })).toString('utf8');
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
}

/** The private key of an approval key file; a wrong passphrase is one line naming the file. */
export async function loadPrivateKey(path: string, passphrase: string): Promise<{ privateKey: KeyObject; publicKey: KeyObject; keyId: string }> {
  const pem = (await readLocalFile(path, { what: 'key', max: LOCAL_FILE_LIMITS.key })).toString('utf8');
  if (!/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(pem)) throw new VouchError('INVALID_KEY', `${resolve(path)}: not a PKCS#8 private key PEM`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch {
    throw new VouchError('INVALID_KEY', `${resolve(path)}: passphrase: wrong passphrase (or the key is damaged)`);
  }
  if (privateKey.asymmetricKeyType !== 'ec') throw new VouchError('INVALID_KEY', `${resolve(path)}: not an ECDSA key`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}
