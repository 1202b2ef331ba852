import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

// Guards the CI preload (test/helpers/fc-seed.ts): under CI=true the seed must be fixed.
test('fast-check runs from a fixed seed under CI', { skip: process.env.CI !== 'true' && !process.env.VOUCH_FC_SEED }, () => {
  const seed = fc.readConfigureGlobal().seed;
  assert.equal(seed, Number(process.env.VOUCH_FC_SEED ?? 20_261_207));
});
