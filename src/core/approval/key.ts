/**
 * Approval signing keys: ECDSA P-256, the private key as encrypted PKCS#8 PEM
 * (mode 0600), the public key as SPKI PEM — what cosign and every Sigstore
 * verifier read.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
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

export async function generateApprovalKey(prefix: string, passphrase: string): Promise<GeneratedKey> {
  if (passphrase.length === 0) throw new VouchError('USAGE', 'key generate: the passphrase is empty (set VOUCH_KEY_PASSWORD or type one)');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const priv = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
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
