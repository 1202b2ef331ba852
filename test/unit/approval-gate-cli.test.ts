/**
 * `vouch gate` and `vouch policy` end to end through the CLI, with real
 * approvals signed by reviewer keys (ECDSA P-256, Sigstore bundle v0.3).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { digestOf, makeReviewers, type Reviewers } from '../helpers/approval.js';
import { writeApproval } from '../helpers/approved.js';
import { runCli } from '../helpers/inspect.js';

const API = digestOf('gate-api');
const WORKER = digestOf('gate-worker');
const REDIS = digestOf('gate-redis');
const BAD = digestOf('gate-not-approved');

const deployment = (image: string, init = `registry.example.com/payments/worker@${WORKER}`): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
spec:
  replicas: 2
  selector:
    matchLabels: {app: payments-api}
  template:
    metadata:
      labels: {app: payments-api}
    spec:
      initContainers:
      - name: migrate
        image: ${init}
      containers:
      - name: api
        image: ${image}
        ports:
        - containerPort: 8080
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: report
            image: registry.example.com/payments/worker@${WORKER}
`;

describe('vouch gate / vouch policy through the CLI with real signed approvals', { timeout: 120_000 }, () => {
  let rv: Reviewers;
  let approvals: string;
  let trust: string;
  before(async () => {
    rv = await makeReviewers(['alice', 'bob', 'mallory']);
    approvals = join(rv.dir, 'approvals');
    await mkdir(approvals);
    await writeApproval(rv, 'alice', [{ name: 'registry.example.com/payments/api', digest: API }, { name: 'registry.example.com/payments/worker', digest: WORKER }], approvals, 'payments-2.4.0');
    await writeApproval(rv, 'alice', [{ name: 'docker.io/library/redis', digest: REDIS }], approvals, 'redis-rejected', 'rejected');
    // Signed by a key the trust file does not name.
    await writeApproval(rv, 'mallory', [{ name: 'registry.example.com/payments/api', digest: BAD }], approvals, 'forged');
    trust = join(rv.dir, 'vouch.trust.yaml');
    await writeFile(trust, rv.trustYaml(['alice', 'bob']));
  });
  after(async () => {
    await rm(rv.dir, { recursive: true, force: true });
  });

  test('every image pinned and approved: exit 0, per-image report in JSON', async () => {
    const f = join(rv.dir, 'ok.yaml');
    await writeFile(f, deployment(`registry.example.com/payments/api:2.4.0@${API}`));
    const r = await runCli(['gate', f, '--approvals', approvals, '--trust', trust, '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const j = JSON.parse(r.stdout);
    assert.equal(j.ok, true);
    assert.deepEqual(
      j.images.map((i: any) => [i.document, i.kind, i.name, i.container, i.digest, i.ok, i.decision, i.release?.version, i.reviewers.map((x: any) => x.name).join()]),
      [
        [0, 'Deployment', 'payments-api', 'api', API, true, 'approved', '2.4.0', 'alice'],
        [0, 'Deployment', 'payments-api', 'migrate', WORKER, true, 'approved', '2.4.0', 'alice'],
        [1, 'CronJob', 'nightly', 'report', WORKER, true, 'approved', '2.4.0', 'alice'],
      ],
    );
    const text = await runCli(['gate', f, '--approvals', approvals, '--trust', trust]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /gate: ok: all 3 images pinned and approved/);
  });

  test('gaps: a tag, an unapproved digest, a rejected decision, an untrusted reviewer: exit 1, each named', async () => {
    const f = join(rv.dir, 'gaps.yaml');
    await writeFile(f, deployment('registry.example.com/payments/api:2.4.0'));
    const compose = join(rv.dir, 'compose.yaml');
    await writeFile(compose, `services:\n  api:\n    image: registry.example.com/payments/api@${BAD}\n  cache:\n    image: redis@${REDIS}\n  worker:\n    image: registry.example.com/payments/worker@${WORKER}\n`);
    const r = await runCli(['gate', f, compose, '--approvals', approvals, '--trust', trust, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.ok, false);
    const byContainer = Object.fromEntries(j.images.map((i: any) => [`${i.file === f ? 'k8s' : 'compose'}:${i.container}`, i]));
    assert.equal(byContainer['k8s:api'].ok, false);
    assert.deepEqual(byContainer['k8s:api'].reasons.map((x: any) => x.code), ['NOT_PINNED']);
    assert.equal(byContainer['k8s:migrate'].ok, true);
    assert.equal(byContainer['compose:api'].ok, false);
    assert.equal(byContainer['compose:cache'].ok, false);
    assert.equal(byContainer['compose:worker'].ok, true);
    // Each refusal says why, in the verifier's words.
    assert.ok(byContainer['compose:api'].reasons.length > 0 && byContainer['compose:cache'].reasons.length > 0);
    assert.match(JSON.stringify(byContainer['compose:cache'].reasons), /rejected/);
    const text = await runCli(['gate', f, compose, '--approvals', approvals, '--trust', trust]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /gate: FAIL: 3 of 6 images not covered/);
    assert.match(text.stdout, /spec\.template\.spec\.containers\[0\]\.image: NOT_PINNED/);
  });

  test('two-person rule: with require.approvals 2 one signature is a gap; bob signing too closes it', async () => {
    const two = join(rv.dir, 'two.trust.yaml');
    await writeFile(two, rv.trustYaml(['alice', 'bob'], 'require:\n  approvals: 2\n'));
    const f = join(rv.dir, 'two.yaml');
    await writeFile(f, `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: api\n    image: registry.example.com/payments/api@${API}\n`);
    const one = await runCli(['gate', f, '--approvals', approvals, '--trust', two, '--json']);
    assert.equal(one.code, 1, one.stderr);
    const dir2 = join(rv.dir, 'approvals-two');
    await mkdir(dir2);
    await writeApproval(rv, 'alice', [{ name: 'registry.example.com/payments/api', digest: API }], dir2, 'alice');
    await writeApproval(rv, 'bob', [{ name: 'registry.example.com/payments/api', digest: API }], dir2, 'bob');
    const both = await runCli(['gate', f, '--approvals', dir2, '--trust', two, '--json']);
    assert.equal(both.code, 0, both.stdout + both.stderr);
    assert.deepEqual(JSON.parse(both.stdout).images[0].reviewers.map((x: any) => x.name).sort(), ['alice', 'bob']);
  });

  test('unparsable manifest, missing approvals, trust file without reviewers: exit 2, one line naming the file', async () => {
    const broken = join(rv.dir, 'broken.yaml');
    await writeFile(broken, 'kind: Deployment\nspec: [\n');
    const r = await runCli(['gate', broken, '--approvals', approvals, '--trust', trust]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^vouch: error: ${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
    assert.equal(r.stderr.trim().split('\n').length, 1);
    const ok = join(rv.dir, 'ok2.yaml');
    await writeFile(ok, deployment(`x/y@${API}`));
    const noDir = await runCli(['gate', ok, '--approvals', join(rv.dir, 'nope'), '--trust', trust]);
    assert.equal(noDir.code, 2);
    assert.match(noDir.stderr, /nope/);
    const empty = join(rv.dir, 'empty.trust.yaml');
    await writeFile(empty, 'signers: []\n');
    const noReviewers = await runCli(['gate', ok, '--approvals', approvals, '--trust', empty]);
    assert.equal(noReviewers.code, 2);
    assert.match(noReviewers.stderr, /reviewers/);
  });

  test('issue 10 review: a merge key is exit 2 (one line naming file and line); an Argo Workflow image is a gap; a file without images warns', async () => {
    const merge = join(rv.dir, 'merge.yaml');
    await writeFile(merge, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: app\n      image: registry.example.com/payments/api@${API}\n      <<: {image: "registry.example.com/evil:latest"}\n`);
    const m = await runCli(['gate', merge, '--approvals', approvals, '--trust', trust]);
    assert.equal(m.code, 2, m.stdout);
    assert.equal(m.stderr.trim().split('\n').length, 1);
    assert.match(m.stderr, /merge\.yaml: document 0: a YAML merge key \(<<\) \(line 9\)/);
    const wf = join(rv.dir, 'wf.yaml');
    await writeFile(wf, `apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: wf}\nspec:\n  templates:\n  - name: main\n    container:\n      image: registry.example.com/evil:latest\n`);
    const w = await runCli(['gate', wf, '--approvals', approvals, '--trust', trust, '--json']);
    assert.equal(w.code, 1, w.stderr);
    assert.deepEqual(JSON.parse(w.stdout).images.map((i: any) => [i.kind, i.path, i.reasons[0].code]), [['Workflow', 'spec.templates[0].container.image', 'NOT_PINNED']]);
    const svc = join(rv.dir, 'svc.yaml');
    await writeFile(svc, 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n');
    const sv = await runCli(['gate', svc, '--approvals', approvals, '--trust', trust]);
    assert.equal(sv.code, 1, sv.stderr);
    assert.match(sv.stderr, /^vouch: warning: .*svc\.yaml: no images found/);
    // With an image-bearing file beside it, the empty one is only a warning.
    const pod = join(rv.dir, 'pod.yaml');
    await writeFile(pod, deployment(`registry.example.com/payments/api@${API}`));
    const both = await runCli(['gate', svc, pod, '--approvals', approvals, '--trust', trust]);
    assert.equal(both.code, 0, both.stdout + both.stderr);
    assert.match(both.stderr, /svc\.yaml: no images found/);
  });

  test('newcomer 7: no image gated across all files (an empty `helm template`, a ConfigMap) is exit 1 unless --allow-empty', async () => {
    const empty = join(rv.dir, 'empty.yaml');
    await writeFile(empty, '');
    const cm = join(rv.dir, 'cm.yaml');
    await writeFile(cm, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {image: "registry.example.com/evil:latest"}\n');
    for (const files of [[empty], [cm], [empty, cm]]) {
      const r = await runCli(['gate', ...files, '--approvals', approvals, '--trust', trust]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^gate: FAIL: no image was gated in .*(empty|cm)\.yaml.*--allow-empty/m);
      const j = await runCli(['gate', ...files, '--approvals', approvals, '--trust', trust, '--json']);
      assert.equal(j.code, 1);
      const report = JSON.parse(j.stdout);
      assert.equal(report.ok, false);
      assert.deepEqual(report.images, []);
      const allowed = await runCli(['gate', ...files, '--approvals', approvals, '--trust', trust, '--allow-empty']);
      assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
      assert.match(allowed.stdout, /^gate: ok: no image was gated .*\(--allow-empty\)/m);
    }
  });

  test('vouch policy kyverno | policy-controller print YAML naming the reviewers; an unknown controller is exit 2', async () => {
    const k = await runCli(['policy', 'kyverno', '--trust', trust]);
    assert.equal(k.code, 0, k.stderr);
    const kd = parseYaml(k.stdout);
    assert.equal(kd.kind, 'ClusterPolicy');
    assert.equal(kd.spec.rules[0].verifyImages[0].attestations[0].attestors[0].entries.length, 2);
    const p = await runCli(['policy', 'policy-controller', '--trust', trust, '--json', '--image', 'registry.example.com/payments/**']);
    assert.equal(p.code, 0, p.stderr);
    const pd = JSON.parse(p.stdout);
    assert.equal(pd.kind, 'ClusterImagePolicy');
    assert.deepEqual(pd.spec.images, [{ glob: 'registry.example.com/payments/**' }]);
    assert.deepEqual(pd.spec.authorities.map((a: any) => a.name), ['reviewer-alice', 'reviewer-bob']);
    const bad = await runCli(['policy', 'gatekeeper', '--trust', trust]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /gatekeeper/);
  });
});
