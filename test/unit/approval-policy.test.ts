import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { APPROVAL_PREDICATE_TYPE, kyvernoPolicy, policyControllerPolicy, policyRequirements } from '../../src/core/approval/policy.js';
import { VouchError } from '../../src/core/errors.js';
import { parseTrustFile, signerDigests } from '../../src/core/trust/trust-file.js';

const CRDS = join(import.meta.dirname, '../fixtures/crds');

/**
 * The CRD's OpenAPI schema, made strict the way `kubectl apply --validate=strict`
 * is: a field the schema does not know is an error (the API server would
 * silently prune it, and the policy would not mean what it says).
 */
function strictSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictSchema);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('x-kubernetes-')) continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, strictSchema(s)])) : strictSchema(v);
  }
  const preserve = (node as Record<string, unknown>)['x-kubernetes-preserve-unknown-fields'] === true;
  if (out['properties'] && out['additionalProperties'] === undefined && !preserve) out['additionalProperties'] = false;
  return out;
}

async function validator(file: string): Promise<(doc: unknown) => string[]> {
  const crd = JSON.parse(await readFile(join(CRDS, file), 'utf8')) as { group: string; version: string; kind: string; openAPIV3Schema: object };
  const ajv = new Ajv({ allErrors: true, strict: false });
  // The API server adds apiVersion, kind and metadata to every CRD's root schema.
  const root = crd.openAPIV3Schema as { properties: Record<string, unknown> };
  const implicit = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } };
  const v = ajv.compile(strictSchema({ ...root, properties: { ...implicit, ...root.properties } }) as object);
  return (doc) => {
    const d = doc as { apiVersion?: string; kind?: string };
    const errors: string[] = [];
    if (d.apiVersion !== `${crd.group}/${crd.version}`) errors.push(`apiVersion ${d.apiVersion}`);
    if (d.kind !== crd.kind) errors.push(`kind ${d.kind}`);
    if (!v(doc)) errors.push(...(v.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
    return errors;
  };
}

async function withTrust<T>(body: (trustText: string) => string, fn: (trust: Awaited<ReturnType<typeof parseTrustFile>>, pems: string[]) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-policy-'));
  try {
    const pems: string[] = [];
    for (const n of ['alice', 'bob']) {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      pems.push(pem);
      await writeFile(join(dir, `${n}.pub`), pem);
    }
    const path = join(dir, 'vouch.trust.yaml');
    const text = body('');
    await writeFile(path, text);
    return await fn(await parseTrustFile(text, path), pems);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const TRUST = `version: 1
reviewers:
  - name: alice
    key: ./alice.pub
  - name: bob
    key: bob.pub
  - name: release-bot
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subjectRegExp: https://github.com/acme/payments/\\.github/workflows/approve\\.yml@refs/heads/main
require:
  approvals: 2
  decisions: [approved]
`;

test('policy: Kyverno ClusterPolicy validates against the kyverno.io/v1 CRD schema; attestors from reviewers, count = require.approvals, condition on the decision', async () => {
  const validate = await validator('kyverno-clusterpolicy-v1.schema.json');
  await withTrust(() => TRUST, async (trust, pems) => {
    const doc = kyvernoPolicy(await policyRequirements(trust)) as any;
    assert.deepEqual(validate(doc), []);
    const vi = doc.spec.rules[0].verifyImages[0];
    assert.equal(vi.verifyDigest, true);
    assert.equal(vi.failureAction, 'Enforce');
    assert.equal(doc.spec.validationFailureAction, 'Enforce');
    const att = vi.attestations[0];
    assert.equal(att.type, APPROVAL_PREDICATE_TYPE);
    assert.equal(att.attestors[0].count, 2);
    const entries = att.attestors[0].entries;
    assert.equal(entries.length, 3);
    assert.equal(entries[0].keys.publicKeys, pems[0]!.trim());
    assert.equal(entries[1].keys.publicKeys, pems[1]!.trim());
    assert.deepEqual(entries[0].keys.rekor, { ignoreTlog: true });
    assert.equal(entries[2].keyless.issuer, 'https://token.actions.githubusercontent.com');
    // The trust file's regexp is anchored (vouch anchors it; the controllers would not).
    assert.equal(entries[2].keyless.subjectRegExp, '^(?:https://github.com/acme/payments/\\.github/workflows/approve\\.yml@refs/heads/main)$');
    assert.deepEqual(att.conditions[0].all[0].value, ['approved']);
    assert.equal(att.conditions[0].all[0].key, '{{ decision }}');
    // The evidence must have been judged under this trust file's signers (require.signers: same, the default).
    assert.deepEqual([att.conditions[0].all[1].key, att.conditions[0].all[1].operator, att.conditions[0].all[1].value], ['{{ trust.signers }}', 'AllIn', signerDigests(trust)]);
    // The validator bites: an unknown field and a bad enum are refused.
    assert.notDeepEqual(validate({ ...doc, spec: { ...doc.spec, validationFailureAction: 'Block' } }), []);
    const typo = structuredClone(doc);
    typo.spec.rules[0].verifyImages[0].attestations[0].attestor = [];
    assert.notDeepEqual(validate(typo), []);
  });
});

test('policy: policy-controller ClusterImagePolicy validates against the v1beta1 CRD schema; one authority per reviewer, CUE on the decision, Rego for the two-person rule', async () => {
  const validate = await validator('policy-controller-clusterimagepolicy-v1beta1.schema.json');
  await withTrust(() => TRUST, async (trust, pems) => {
    const doc = policyControllerPolicy(await policyRequirements(trust), { rekorUrl: 'https://rekor.example.com' }) as any;
    assert.deepEqual(validate(doc), []);
    const a = doc.spec.authorities;
    assert.deepEqual(a.map((x: any) => x.name), ['reviewer-alice', 'reviewer-bob', 'reviewer-release-bot']);
    assert.equal(a[0].key.data, pems[0]!.trim());
    assert.equal(a[0].ctlog, undefined);
    assert.equal(a[2].ctlog.url, 'https://rekor.example.com');
    assert.equal(a[2].keyless.identities[0].issuer, 'https://token.actions.githubusercontent.com');
    for (const x of a) {
      assert.equal(x.attestations[0].predicateType, APPROVAL_PREDICATE_TYPE);
      assert.equal(x.attestations[0].policy.type, 'cue');
      assert.match(x.attestations[0].policy.data, /^predicate: decision: "approved"$/m);
      const list = signerDigests(trust);
      assert.ok(x.attestations[0].policy.data.includes(`predicate: trust: signers: [...(${list.length ? list.map((d) => JSON.stringify(d)).join(' | ') : '_|_'})]`), x.attestations[0].policy.data);
    }
    assert.equal(doc.spec.policy.type, 'rego');
    assert.match(doc.spec.policy.data, /count\(input\.authorityMatches\) >= 2/);
    assert.notDeepEqual(validate({ ...doc, spec: { ...doc.spec, authority: [] } }), []);
  });
});

test('policy: one approval and default decisions; tlog required puts the log on key reviewers', async () => {
  const text = `reviewers:\n  - name: alice\n    key: alice.pub\nrequire:\n  tlog: true\n`;
  await withTrust(() => text, async (trust) => {
    const req = await policyRequirements(trust);
    assert.deepEqual(req.decisions, ['approved', 'approved-with-exceptions']);
    const k = kyvernoPolicy(req, { rekorUrl: 'https://rekor.example.com' }) as any;
    assert.deepEqual(k.spec.rules[0].verifyImages[0].attestations[0].attestors[0].entries[0].keys.rekor, { url: 'https://rekor.example.com' });
    const p = policyControllerPolicy(req) as any;
    assert.equal(p.spec.policy, undefined);
    assert.equal(p.spec.authorities[0].ctlog.url, 'https://rekor.sigstore.dev');
    assert.match(p.spec.authorities[0].attestations[0].policy.data, /decision: "approved" \| "approved-with-exceptions"/);
  });
});

test('policy: a trust file without reviewers, or asking for more approvals than reviewers, is an error naming the file (exit 2)', async () => {
  for (const text of ['signers: []\n', 'reviewers:\n  - name: alice\n    key: alice.pub\nrequire:\n  approvals: 2\n', 'reviewers:\n  - name: alice\n    key: missing.pub\n']) {
    const dir = await mkdtemp(join(tmpdir(), 'vouch-policy-'));
    try {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await writeFile(join(dir, 'alice.pub'), publicKey.export({ type: 'spki', format: 'pem' }).toString());
      const path = join(dir, 'vouch.trust.yaml');
      await writeFile(path, text);
      // The trust file parser or the policy builder refuses it, either way naming the file.
      await assert.rejects((async () => policyRequirements(await parseTrustFile(text, path)))(), (e: unknown) => {
        assert.ok(e instanceof VouchError);
        assert.equal(e.exitCode, 2);
        assert.ok(e.message.startsWith(path), e.message);
        assert.match(e.message, /reviewers|approvals/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});
