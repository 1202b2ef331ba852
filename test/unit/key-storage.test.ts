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
import { spawnSync } from 'node:child_process';
import { generateApprovalKey, loadPrivateKey } from '../../src/core/approval/key.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
const OID = {
  pbes2: hex('06 09 2a 86 48 86 f7 0d 01 05 0d'),
  scrypt: hex('06 09 2b 06 01 04 01 da 47 04 0b'),
  aes256cbc: hex('06 09 60 86 48 01 65 03 04 01 2a'),
};

test('the key file is PBES2 (scrypt N=16384 r=8 p=1, AES-256-CBC), mode 0600, never overwritten, useless without its passphrase; OpenSSL reads it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-key-'));
  const k = await generateApprovalKey(join(dir, 'alice'), 'correct horse');
  const pem = readFileSync(k.privatePath, 'utf8');
  assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  for (const [name, oid] of Object.entries(OID)) assert.ok(der.includes(oid), `${name} is the scheme`);
  // scrypt-params: a 16-byte salt, cost N 16384, block size 8, parallelisation 1 (RFC 7914 §7).
  assert.match(der.toString('hex'), /0410[0-9a-f]{32}02024000020108020101/);
  // The format is OpenSSL's own (`openssl pkcs8 -topk8 -scrypt`): its reader decrypts it with the passphrase.
  const openssl = spawnSync('openssl', ['pkcs8', '-in', k.privatePath, '-passin', 'pass:correct horse'], { encoding: 'utf8' });
  if (openssl.error) assert.ok(process.env.CI !== 'true', 'openssl is installed under CI');
  else {
    assert.equal(openssl.status, 0, openssl.stderr);
    assert.match(openssl.stdout, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.notEqual(spawnSync('openssl', ['pkcs8', '-in', k.privatePath, '-passin', 'pass:wrong horse']).status, 0);
  }
  assert.equal(statSync(k.privatePath).mode & 0o777, 0o600);
  assert.equal(statSync(k.publicPath).mode & 0o777, 0o644);
  assert.match(readFileSync(k.publicPath, 'utf8'), /^-----BEGIN PUBLIC KEY-----\n/);
  assert.equal((await loadPrivateKey(k.privatePath, 'correct horse')).keyId, k.keyId);
  await assert.rejects(loadPrivateKey(k.privatePath, 'Correct horse'), /alice\.key: passphrase: wrong passphrase/);
  await assert.rejects(generateApprovalKey(join(dir, 'alice'), 'another passphrase'), /alice\.key: already exists; not overwriting a key/);
  assert.equal(readFileSync(k.privatePath, 'utf8'), pem);
  await assert.rejects(generateApprovalKey(join(dir, 'bob'), ''), /the passphrase is empty/);
  await assert.rejects(generateApprovalKey(join(dir, 'bob'), 'a'), /the passphrase is shorter than 8 characters/);
});
