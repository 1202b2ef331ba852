import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gate, type Coverage, type Covers } from '../../src/core/approval/gate.js';
import { pinnedImage, workloadImages } from '../../src/core/approval/workloads.js';
import { VouchError } from '../../src/core/errors.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const C = `sha256:${'c'.repeat(64)}`;

/** Approves exactly the digests given; records what it was asked. */
function approving(digests: string[]): Covers & { asked: string[] } {
  const asked: string[] = [];
  const f = async (image: { name: string; digest: string }): Promise<Coverage> => {
    asked.push(`${image.name}@${image.digest}`);
    return digests.includes(image.digest)
      ? { ok: true, decision: 'approved', release: { name: 'payments', version: '2.4.0' }, reviewers: [{ name: 'alice', identity: 'key abc' }], reasons: [] }
      : { ok: false, decision: null, release: null, reviewers: [], reasons: [{ code: 'NO_APPROVAL', message: 'no approval names this digest' }] };
  };
  return Object.assign(f, { asked });
}

// The shapes of kubernetes/website's examples (controllers/nginx-deployment.yaml, application/job/cronjob.yaml).
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      initContainers:
      - name: init-myservice
        image: busybox:1.28@${B}
        command: ['sh', '-c', "until nslookup myservice; do echo waiting; sleep 2; done"]
      containers:
      - name: nginx
        image: nginx@${A}
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: my-service
spec:
  selector:
    app: nginx
  ports:
  - protocol: TCP
    port: 80
    targetPort: 9376
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox:1.28
            imagePullPolicy: IfNotPresent
            command:
            - /bin/sh
            - -c
            - date; echo Hello from the Kubernetes cluster
          restartPolicy: OnFailure
`;

const COMPOSE = `services:
  web:
    image: registry.example.com/payments/api@${A}
    ports:
      - "8000:5000"
  redis:
    image: "redis:alpine"
  worker:
    build: ./worker
`;

test('gate: Deployment (init + app container), Service skipped, CronJob jobTemplate; per-image report with kind/name/container', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gate-'));
  try {
    const f = join(dir, 'app.yaml');
    await writeFile(f, DEPLOYMENT);
    const covers = approving([A]);
    const r = await gate([f], covers);
    assert.equal(r.ok, false);
    const rows = r.images.map((i) => [i.document, i.kind, i.name, i.container, i.field, i.ok, i.reasons.map((x) => x.code).join(',')]);
    assert.deepEqual(rows, [
      [0, 'Deployment', 'nginx-deployment', 'nginx', 'containers', true, ''],
      [0, 'Deployment', 'nginx-deployment', 'init-myservice', 'initContainers', false, 'NO_APPROVAL'],
      [2, 'CronJob', 'hello', 'hello', 'containers', false, 'NOT_PINNED'],
    ]);
    assert.equal(r.images[0]!.digest, A);
    assert.equal(r.images[0]!.decision, 'approved');
    assert.equal(r.images[2]!.path, 'spec.jobTemplate.spec.template.spec.containers[0].image');
    assert.equal(r.images[0]!.file, f);
    // The verifier is asked with the normalised name; the unpinned image never reaches it.
    assert.deepEqual(covers.asked.sort(), [`docker.io/library/busybox@${B}`, `docker.io/library/nginx@${A}`]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('gate: everything pinned and approved passes; a digest is verified once however many containers use it', async () => {
  const text = ['Pod', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController']
    .map((kind) => {
      const pod = `containers:\n  - name: app\n    image: ghcr.io/acme/app@${A}\n  ephemeralContainers:\n  - name: debug\n    image: ghcr.io/acme/debug@${C}`;
      return kind === 'Pod'
        ? `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  ${pod}\n`
        : `apiVersion: apps/v1\nkind: ${kind}\nmetadata:\n  name: w\nspec:\n  template:\n    spec:\n      ${pod.replace(/\n/g, '\n    ')}\n`;
    })
    .join('---\n');
  const images = workloadImages(text, 'many.yaml');
  assert.equal(images.length, 12);
  assert.deepEqual([...new Set(images.map((i) => i.kind))], ['Pod', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController']);
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gate-'));
  try {
    const f = join(dir, 'many.yaml');
    await writeFile(f, text);
    const covers = approving([A, C]);
    const r = await gate([f], covers);
    assert.equal(r.ok, true);
    assert.equal(covers.asked.length, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('gate: kind: List (and nested lists) and PodTemplate', () => {
  const text = JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'PodTemplate', metadata: { name: 'pt' }, template: { spec: { containers: [{ name: 'c', image: `x/y@${A}` }] } } },
      { apiVersion: 'v1', kind: 'DeploymentList', items: [{ kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'd', image: 'x/z:1' }] } } } }] },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { image: 'not/an:image' } },
    ],
  });
  const images = workloadImages(text, 'list.json');
  assert.deepEqual(
    images.map((i) => [i.kind, i.name, i.path]),
    [
      ['PodTemplate', 'pt', 'items[0].template.spec.containers[0].image'],
      ['Deployment', 'd', 'items[1].items[0].spec.template.spec.containers[0].image'],
    ],
  );
});

test('gate: a compose file: pinned service checked, tag-only and build-only services are gaps', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gate-'));
  try {
    const f = join(dir, 'compose.yaml');
    await writeFile(f, COMPOSE);
    const r = await gate([f], approving([A]));
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.images.map((i) => [i.kind, i.container, i.ok, i.reasons.map((x) => x.code).join(',')]),
      [
        ['compose', 'web', true, ''],
        ['compose', 'redis', false, 'NOT_PINNED'],
        ['compose', 'worker', false, 'NO_IMAGE'],
      ],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('gate: bad input is an error naming the file (exit 2), not a verdict', async () => {
  const cases: Array<[string, RegExp]> = [
    ['kind: Deployment\nspec: [unclosed', /not valid YAML/],
    // Two image keys: the reviewer would read one, the cluster run the other.
    [`kind: Pod\nspec:\n  containers:\n  - name: a\n    image: x@${A}\n    image: evil:latest\n`, /not valid YAML.*(unique|duplicate)/i],
    ['kind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: 3}}}\n', /containers is not a list/],
    ['kind: Deployment\nmetadata: {name: d}\nspec: {}\n', /spec\.template\.spec is missing/],
    ['kind: List\nitems: 4\n', /items array/],
    ['kind: Pod\nspec:\n  containers:\n  - name: a\n    image: 7\n', /image is not a string/],
    // A billion laughs: aliases are bounded.
    [`a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`, /alias/i],
  ];
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gate-'));
  try {
    for (const [i, [text, re]] of cases.entries()) {
      const f = join(dir, `bad-${i}.yaml`);
      await writeFile(f, text);
      await assert.rejects(gate([f], approving([A])), (e: unknown) => {
        assert.ok(e instanceof VouchError, String(e));
        assert.equal(e.exitCode, 2);
        assert.ok(e.message.startsWith(f), e.message);
        assert.match(e.message, re);
        return true;
      });
    }
    await assert.rejects(gate([join(dir, 'missing.yaml')], approving([])), /missing\.yaml: cannot read/);
    // Size is bounded before reading.
    const big = join(dir, 'big.yaml');
    await writeFile(big, Buffer.alloc((16 << 20) + 1, 0x20));
    await assert.rejects(gate([big], approving([])), (e: unknown) => e instanceof VouchError && e.code === 'LIMIT_EXCEEDED' && e.message.startsWith(big));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('pinnedImage: digest decides; tags alone, bad references and build-only are named problems', () => {
  assert.deepEqual(pinnedImage(`nginx:1.25@${A}`), { name: 'docker.io/library/nginx', digest: A });
  assert.equal((pinnedImage('nginx:1.25') as { code: string }).code, 'NOT_PINNED');
  assert.equal((pinnedImage('${REGISTRY}/api') as { code: string }).code, 'INVALID_REFERENCE');
  assert.equal((pinnedImage(`nginx@sha256:${'A'.repeat(64)}`) as { code: string }).code, 'INVALID_REFERENCE');
  assert.equal((pinnedImage(null) as { code: string }).code, 'NO_IMAGE');
});

test('gate: a custom kind carrying a pod template (Argo Rollout) is gated too, not skipped', () => {
  const text = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: payments
spec:
  strategy:
    canary: {steps: [{setWeight: 20}]}
  template:
    spec:
      containers:
      - name: api
        image: registry.example.com/payments/api:2.4.0
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data:
  containers: "not a list"
`;
  const images = workloadImages(text, 'rollout.yaml');
  assert.deepEqual(images.map((i) => [i.kind, i.name, i.container, i.path, i.image]), [
    ['Rollout', 'payments', 'api', 'spec.template.spec.containers[0].image', 'registry.example.com/payments/api:2.4.0'],
  ]);
});

test('gate: YAML merge keys are refused (exit 2): kubectl (go-yaml v2) applies them differently (a later merge overrides an explicit key)', () => {
  const doc = `apiVersion: v1
kind: Pod
metadata: {name: p}
x-base: &base
  name: api
  image: evil.example.com/api:latest
spec:
  containers:
  - <<: *base
  - <<: *base
    name: pinned
    image: registry.example.com/api@${A}
`;
  assert.throws(() => workloadImages(doc, 'merge.yaml'), (e: unknown) => e instanceof VouchError && e.exitCode === 2 && /^merge\.yaml: document 0: a YAML merge key \(<<\) \(line 9\)/.test(e.message));
});
