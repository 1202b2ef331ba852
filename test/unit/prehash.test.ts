/**
 * Prehashed signature verification (digest mode): ECDSA P-256 / P-384 in
 * BigInt arithmetic and RSA PKCS#1 v1.5 by encoding comparison, checked against
 * OpenSSL's own sign/verify on the message.
 */
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { TrustInputError } from '../../src/core/trust/reasons.js';
import { describeKey, keyIdOf, parseDerEcdsaSignature, UnsupportedPrehashError, verifyMessage, verifyPrehashed } from '../../src/core/trust/prehash.js';

type Alg = 'sha256' | 'sha384' | 'sha512';
const digest = (alg: Alg, m: Uint8Array) => createHash(alg).update(m).digest();

const keys: Record<string, { publicKey: KeyObject; privateKey: KeyObject }> = {
  'P-256': generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
  'P-384': generateKeyPairSync('ec', { namedCurve: 'secp384r1' }),
  'RSA-2048': generateKeyPairSync('rsa', { modulusLength: 2048 }),
};

describe('verifyPrehashed agrees with OpenSSL', () => {
  for (const [name, kp] of Object.entries(keys)) {
    for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
      test(`${name} over a ${alg} digest: valid verifies; another digest, a flipped signature bit do not`, () => {
        const msg = Buffer.from(`vouch ${name} ${alg}`);
        const sig = sign(alg, msg, kp.privateKey);
        assert.equal(verifyPrehashed(kp.publicKey, alg, digest(alg, msg), sig), true);
        const other = digest(alg, Buffer.from('something else'));
        assert.equal(verifyPrehashed(kp.publicKey, alg, other, sig), false);
        for (const i of [0, 8, sig.length - 1]) {
          const bad = Buffer.from(sig);
          bad[i]! ^= 0x01;
          assert.equal(verifyPrehashed(kp.publicKey, alg, digest(alg, msg), bad), verify(alg, msg, kp.publicKey, bad), `bit flip at ${i}`);
        }
        // A digest of the wrong length for the algorithm never verifies.
        assert.equal(verifyPrehashed(kp.publicKey, alg, digest(alg, msg).subarray(1), sig), false);
      });
    }
  }
  test('property: for random messages and corruptions, prehash verification = OpenSSL verification', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(keys)),
        fc.constantFrom<Alg>('sha256', 'sha384'),
        fc.uint8Array({ maxLength: 64 }),
        fc.option(fc.nat(), { nil: undefined }),
        (name, alg, msg, flip) => {
          const kp = keys[name]!;
          const sig = sign(alg, msg, kp.privateKey);
          if (flip !== undefined) sig[flip % sig.length]! ^= 1 << flip % 8;
          assert.equal(verifyPrehashed(kp.publicKey, alg, digest(alg, msg), sig), verify(alg, msg, kp.publicKey, sig));
        },
      ),
      { numRuns: 60 },
    );
  });
  test('PEM and DER keys are accepted; keyIdOf is sha256 of the SPKI DER', () => {
    const kp = keys['P-256']!;
    const msg = Buffer.from('pem');
    const sig = sign('sha256', msg, kp.privateKey);
    const pem = kp.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const der = kp.publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(verifyPrehashed(pem, 'sha256', digest('sha256', msg), sig), true);
    assert.equal(verifyPrehashed(der, 'sha256', digest('sha256', msg), sig), true);
    assert.equal(keyIdOf(pem), createHash('sha256').update(der).digest('hex'));
  });
});

describe('malformed input', () => {
  const kp = keys['P-256']!;
  const msg = Buffer.from('m');
  const d = digest('sha256', msg);
  test('non-DER ECDSA signatures are refused (raw r||s, trailing bytes, non-minimal integers, r = 0, r ≥ n)', () => {
    const sig = sign('sha256', msg, kp.privateKey);
    const rs = parseDerEcdsaSignature(sig)!;
    const raw = Buffer.from(rs.r.toString(16).padStart(64, '0') + rs.s.toString(16).padStart(64, '0'), 'hex');
    assert.equal(verifyPrehashed(kp.publicKey, 'sha256', d, raw), false);
    assert.equal(verifyPrehashed(kp.publicKey, 'sha256', d, Buffer.concat([sig, Buffer.from([0])])), false);
    const int = (hex: string) => Buffer.concat([Buffer.from([0x02, hex.length / 2]), Buffer.from(hex, 'hex')]);
    const seq = (...parts: Buffer[]) => {
      const body = Buffer.concat(parts);
      return Buffer.concat([Buffer.from([0x30, body.length]), body]);
    };
    assert.equal(parseDerEcdsaSignature(seq(int('0001'), int('01'))), null);
    assert.equal(verifyPrehashed(kp.publicKey, 'sha256', d, seq(int('00'), int('01'))), false);
    const n = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';
    assert.equal(verifyPrehashed(kp.publicKey, 'sha256', d, seq(int(`00${n}`), int('01'))), false);
    assert.equal(verifyPrehashed(kp.publicKey, 'sha256', d, Buffer.alloc(0)), false);
  });
  test('an RSA signature of the wrong length is refused', () => {
    const r = keys['RSA-2048']!;
    const sig = sign('sha256', msg, r.privateKey);
    assert.equal(verifyPrehashed(r.publicKey, 'sha256', d, sig.subarray(1)), false);
    assert.equal(verifyPrehashed(r.publicKey, 'sha256', d, Buffer.concat([Buffer.from([0]), sig])), false);
  });
  test('an RSA signature over the same digest but another DigestInfo (sha384 claimed) is refused', () => {
    const r = keys['RSA-2048']!;
    const sig = sign('sha256', msg, r.privateKey);
    assert.equal(verifyPrehashed(r.publicKey, 'sha384', Buffer.concat([d, Buffer.alloc(16)]), sig), false);
  });
  test('Ed25519 keys cannot verify a digest: UnsupportedPrehashError; nor can secp256k1', () => {
    const ed = generateKeyPairSync('ed25519');
    assert.throws(() => verifyPrehashed(ed.publicKey, 'sha256', d, Buffer.alloc(64)), UnsupportedPrehashError);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    assert.throws(() => verifyPrehashed(k1.publicKey, 'sha256', d, sign('sha256', msg, k1.privateKey)), UnsupportedPrehashError);
  });
  test('P-521 over sha256/384/512 digests agrees with OpenSSL (valid, other digest, flipped bits)', () => {
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
    for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
      const sig = sign(alg, msg, p521.privateKey);
      assert.equal(verifyPrehashed(p521.publicKey, alg, digest(alg, msg), sig), true, alg);
      assert.equal(verifyPrehashed(p521.publicKey, alg, digest(alg, Buffer.from('other')), sig), false, alg);
      for (const i of [8, sig.length - 1]) {
        const bad = Buffer.from(sig);
        bad[i]! ^= 0x01;
        assert.equal(verifyPrehashed(p521.publicKey, alg, digest(alg, msg), bad), verify(alg, msg, p521.publicKey, bad), `${alg} flip ${i}`);
      }
    }
  });
  test('RSA-PSS over a digest (any salt length, MGF1 with the same hash) agrees with OpenSSL; rsa-pss keys and PKCS#1 signatures do not cross', () => {
    const r = keys['RSA-2048']!;
    const PSS = constants.RSA_PKCS1_PSS_PADDING;
    for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
      for (const saltLength of [0, 20, constants.RSA_PSS_SALTLEN_DIGEST]) {
        const sig = sign(alg, msg, { key: r.privateKey, padding: PSS, saltLength });
        assert.equal(verifyPrehashed(r.publicKey, alg, digest(alg, msg), sig), true, `${alg} salt ${saltLength}`);
        assert.equal(verifyPrehashed(r.publicKey, alg, digest(alg, Buffer.from('other')), sig), false);
        const bad = Buffer.from(sig);
        bad[100]! ^= 0x04;
        assert.equal(verifyPrehashed(r.publicKey, alg, digest(alg, msg), bad), false);
      }
    }
    // A PSS signature claimed over another hash's digest does not verify.
    const sig = sign('sha256', msg, { key: r.privateKey, padding: PSS, saltLength: 32 });
    assert.equal(verifyPrehashed(r.publicKey, 'sha512', digest('sha512', msg), sig), false);
    // An rsa-pss key (PSS only, hash pinned): its signatures verify, a PKCS#1 v1.5 encoding cannot be made with it.
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha256', mgf1HashAlgorithm: 'sha256' });
    const ps = sign('sha256', msg, pss.privateKey);
    assert.equal(verifyPrehashed(pss.publicKey, 'sha256', d, ps), true);
    assert.equal(verifyPrehashed(pss.publicKey, 'sha384', digest('sha384', msg), sign('sha384', msg, { key: r.privateKey, padding: PSS })), false);
  });
});

describe('signer keys (describeKey) and whole-message signatures (verifyMessage)', () => {
  test('cosign key kinds are accepted with their key id; other curves, small RSA and non-keys are INVALID_KEY', () => {
    for (const [type, opts, algorithm] of [
      ['ec', { namedCurve: 'P-256' }, 'ecdsa-p256'],
      ['ec', { namedCurve: 'P-384' }, 'ecdsa-p384'],
      ['ec', { namedCurve: 'P-521' }, 'ecdsa-p521'],
      ['rsa', { modulusLength: 2048 }, 'rsa'],
      ['ed25519', {}, 'ed25519'],
    ] as const) {
      const { publicKey } = generateKeyPairSync(type as 'ec', opts as { namedCurve: string });
      const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const info = describeKey(pem);
      assert.equal(info.algorithm, algorithm);
      assert.equal(info.keyId, keyIdOf(pem));
      assert.equal(describeKey(info.der).keyId, info.keyId);
      assert.equal(describeKey(Buffer.from(pem)).keyId, info.keyId);
    }
    const refused = [
      generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey,
    ];
    for (const k of refused) assert.throws(() => describeKey(k), (e: unknown) => e instanceof TrustInputError && e.code === 'INVALID_KEY');
    assert.throws(() => describeKey('not a key'), (e: unknown) => e instanceof TrustInputError && e.code === 'INVALID_KEY');
  });

  test('verifyMessage: SHA-256 (and SHA-384 for P-384) ECDSA / RSA, pure Ed25519; never throws on garbage', () => {
    const msg = Buffer.from('message');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    assert.ok(verifyMessage(p384.publicKey, msg, sign('sha384', msg, p384.privateKey)));
    assert.ok(verifyMessage(describeKey(p384.publicKey), msg, sign('sha256', msg, p384.privateKey)));
    const ed = generateKeyPairSync('ed25519');
    assert.ok(verifyMessage(ed.publicKey, msg, sign(null, msg, ed.privateKey)));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    assert.ok(verifyMessage(rsa.publicKey, msg, sign('sha256', msg, rsa.privateKey)));
    assert.equal(verifyMessage(rsa.publicKey, Buffer.from('other'), sign('sha256', msg, rsa.privateKey)), false);
    assert.equal(verifyMessage(ed.publicKey, msg, Buffer.from('garbage')), false);
  });
});
