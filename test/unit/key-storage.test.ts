/**
 * How an approval key is stored (docs/SECURITY.md, "How keys and preferences
 * are stored"): the exact encryption of the key file, its mode, and that it is
 * never overwritten or usable without its passphrase.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateApprovalKey, loadPrivateKey } from '../../src/core/approval/key.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
const OID = {
  pbes2: hex('06 09 2a 86 48 86 f7 0d 01 05 0d'),
  pbkdf2: hex('06 09 2a 86 48 86 f7 0d 01 05 0c'),
  hmacWithSHA256: hex('06 08 2a 86 48 86 f7 0d 02 09'),
  aes256cbc: hex('06 09 60 86 48 01 65 03 04 01 2a'),
};

test('the key file is PBES2 (PBKDF2-HMAC-SHA256, 2048 iterations, AES-256-CBC), mode 0600, never overwritten, useless without its passphrase', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-key-'));
  const k = await generateApprovalKey(join(dir, 'alice'), 'correct horse');
  const pem = readFileSync(k.privatePath, 'utf8');
  assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  for (const [name, oid] of Object.entries(OID)) assert.ok(der.includes(oid), `${name} is the scheme`);
  // PBKDF2 parameters: the salt (OCTET STRING of 8 or more bytes: OpenSSL 3.x as in Node 20 writes 8, Node 24's 16),
  // then the iteration count INTEGER 2048.
  assert.match(der.toString('hex'), /04(?:08[0-9a-f]{16}|10[0-9a-f]{32}|20[0-9a-f]{64})02020800/);
  assert.equal(statSync(k.privatePath).mode & 0o777, 0o600);
  assert.equal(statSync(k.publicPath).mode & 0o777, 0o644);
  assert.match(readFileSync(k.publicPath, 'utf8'), /^-----BEGIN PUBLIC KEY-----\n/);
  assert.equal((await loadPrivateKey(k.privatePath, 'correct horse')).keyId, k.keyId);
  await assert.rejects(loadPrivateKey(k.privatePath, 'Correct horse'), /alice\.key: passphrase: wrong passphrase/);
  await assert.rejects(generateApprovalKey(join(dir, 'alice'), 'other'), /alice\.key: already exists; not overwriting a key/);
  assert.equal(readFileSync(k.privatePath, 'utf8'), pem);
  await assert.rejects(generateApprovalKey(join(dir, 'bob'), ''), /the passphrase is empty/);
});
