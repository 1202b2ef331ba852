/** Newcomer review of issue 9: what diff calls a key/credential file agrees with what the checks call a secret. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reviewReasons } from '../../src/core/diff/review.js';

const file = { type: 'file' as const, mode: 0o644 };

test('public keyrings are not key/credential files; private keys still are', () => {
  for (const p of ['/etc/apt/trusted.gpg.d/debian-archive-bookworm.asc', '/usr/share/keyrings/debian-archive-keyring.gpg', '/etc/apt/keyrings/docker.asc', '/etc/apt/trusted.gpg', '/etc/pki/rpm-gpg/RPM-GPG-KEY-redhat-release.gpg']) {
    assert.deepEqual(reviewReasons(p, file), [], p);
  }
  for (const p of ['/root/.ssh/id_ed25519', '/app/server.key', '/app/.env', '/home/u/.gnupg/private-keys-v1.d/x.key', '/app/signing.asc']) {
    assert.deepEqual(reviewReasons(p, file), ['secret'], p);
  }
});

test('/etc/shadow and /etc/gshadow are account files, a reason of their own, not key/credential', () => {
  assert.deepEqual(reviewReasons('/etc/shadow', { type: 'file', mode: 0o640 }), ['account-file']);
  assert.deepEqual(reviewReasons('/etc/gshadow', { type: 'file', mode: 0o640 }), ['account-file']);
});
