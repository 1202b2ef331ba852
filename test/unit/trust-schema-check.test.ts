/**
 * The trust file is validated by schema-check first and ajv only words the
 * errors: schema-check must accept exactly what ajv accepts, or a file ajv
 * rejects would pass unchecked.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { TRUST_FILE_SCHEMA } from '../../src/core/trust/trust-file.js';
import { POLICY_FILE_SCHEMA } from '../../src/core/checks/policy.js';
import { RELEASE_FILE_SCHEMA } from '../../src/core/review/release.js';
import { checkSchema } from '../../src/core/util/schema-check.js';

const digest = `sha256:${'a'.repeat(64)}`;
const docs: unknown[] = [
  {},
  { version: 1 },
  { version: 2 },
  { version: 1.5 },
  { trustedRoot: '' },
  { allowPlatformOnlySignatures: 'yes' },
  { signers: [{ name: 'ci', key: './k.pub' }] },
  { signers: [{ name: 'ci', key: './k.pub', keyless: { issuer: 'i', subject: 's' } }] },
  { signers: [{ name: 'ci' }] },
  { signers: [{ name: 'x'.repeat(200), key: 'k' }] },
  { signers: [{ name: 'x'.repeat(201), key: 'k' }] },
  { signers: [{ name: '😀'.repeat(200), key: 'k' }] },
  { signers: [{ name: 'ci', key: 'k', tlog: 'sometimes' }] },
  { signers: [{ name: 'ci', key: 'k', signedIdentity: { type: 'matchExact' } }] },
  { signers: [{ name: 'ci', key: 'k', signedIdentity: { type: 'nope' } }] },
  { signers: [{ name: 'ci', keyless: { issuer: 'i', subject: 's', subjectRegExp: 'r' } }] },
  { signers: [{ name: 'ci', keyless: { issuer: 'i', subjectRegexp: 'r' } }] },
  { signers: [{ name: 'ci', keyless: { issuer: 'i', subject: 's', extensions: { nope: 'x' } } }] },
  { signers: [{ name: 'ci', ca: { roots: 'r', subjectEmail: 'e' } }] },
  { signers: [{ name: 'ci', ca: { subjectEmail: 'e' } }] },
  { signers: {} },
  { reviewers: [{ name: 'alice', key: 'a.pub' }] },
  { reviewers: [{ name: 'alice', keyless: { issuer: 'i', subjectRegExp: '.*' } }] },
  { reviewers: [{ name: 'alice', key: 'a.pub', keyless: { issuer: 'i', subject: 's' } }] },
  { reviewers: [{ name: 'alice', key: 'a.pub', extra: 1 }] },
  { require: { approvals: 2, decisions: ['approved', 'approved-with-exceptions'], maxAge: '30d', policyDigest: digest, tlog: true } },
  { require: { approvals: 0 } },
  { require: { approvals: 101 } },
  { require: { approvals: 1.5 } },
  { require: { decisions: [] } },
  { require: { decisions: ['approved', 'approved'] } },
  { require: { decisions: ['maybe'] } },
  { require: { maxAge: '30 days' } },
  { require: { maxAge: '0d' } },
  { require: { policyDigest: 'sha256:ABC' } },
  { require: { tlog: 'true' } },
  { unknown: true },
  [],
  'text',
  null,
];

describe('trust file schema: schema-check agrees with ajv', () => {
  test('same verdict on valid and invalid documents', () => {
    const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(TRUST_FILE_SCHEMA);
    let rejected = 0;
    for (const doc of docs) {
      const ajvOk = validate(doc);
      if (!ajvOk) rejected++;
      assert.equal(checkSchema(TRUST_FILE_SCHEMA, doc) === null, ajvOk, JSON.stringify(doc).slice(0, 120));
    }
    assert.ok(rejected > 20 && rejected < docs.length - 5, `rejected ${rejected} of ${docs.length}`);
  });
});

const agree = (schema: object, list: unknown[], opts: object): number => {
  const validate = new Ajv({ allErrors: true, strict: true, ...opts }).compile(schema);
  let rejected = 0;
  for (const doc of list) {
    const ajvOk = validate(doc);
    if (!ajvOk) rejected++;
    assert.equal(checkSchema(schema as Record<string, unknown>, doc) === null, ajvOk, JSON.stringify(doc).slice(0, 120));
  }
  return rejected;
};

describe('policy and release file schemas: schema-check agrees with ajv', () => {
  test('policy documents', () => {
    const exc = { check: 'VCH-SC-001', subject: 's', reason: 'r', expires: '2030-01-01' };
    const rejected = agree(POLICY_FILE_SCHEMA, [
      {}, { version: 1, failOn: 'high' }, { failOn: 'worst' }, { checks: { 'VCH-SC-001': { enabled: false, severity: 'low' } } },
      { checks: { x: { enabled: 'no' } } }, { checks: { x: { other: 1 } } }, { scans: { maxAgeDays: 1.5 } }, { scans: { maxAgeDays: -1 } },
      { licenses: { copyleft: ['GPL-*'] } }, { licenses: { copyleft: [''] } }, { licenses: { copyleft: ['x'.repeat(1001)] } },
      { allow: { ports: [80, 65535] } }, { allow: { ports: [65536] } }, { allow: { ports: [1.5] } },
      { exceptions: [exc] }, { exceptions: [{ ...exc, check: 'VCH-x' }] }, { exceptions: [{ ...exc, expires: '2030-1-1' }] },
      { exceptions: [{ check: 'VCH-SC-001', subject: 's', reason: 'r' }] }, { exceptions: [{ ...exc, extra: 1 }] }, { nope: 1 }, [], null,
    ], {});
    assert.ok(rejected >= 14, `rejected ${rejected}`);
  });
  test('release documents', () => {
    const ok = { name: 'payments', version: '2.4.0', images: { api: 'docker://r/a@sha256:x' }, trust: './t.yaml' };
    const rejected = agree(RELEASE_FILE_SCHEMA, [
      ok, { ...ok, baseline: 'b', policy: 'p' }, { ...ok, name: '../x' }, { ...ok, version: '' }, { ...ok, images: {} },
      { ...ok, images: { 'bad/key': 'x' } }, { ...ok, images: { '.x': 'x' } }, { ...ok, images: { api: '' } },
      { ...ok, images: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`i${i}`, 'x'])) },
      { ...ok, images: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`i${i}`, 'x'])) },
      { ...ok, trust: undefined }, { name: 'a', version: '1', images: { a: 'x' } }, { ...ok, extra: 'x' }, 'text', null,
    ].map((d) => JSON.parse(JSON.stringify(d))), { allowUnionTypes: true });
    assert.ok(rejected >= 10, `rejected ${rejected}`);
  });
});
