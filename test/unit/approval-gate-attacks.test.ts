/**
 * Attacks on `vouch gate` (issue 10 review): manifests that make the gate and
 * the cluster read different images, and images the gate did not look at.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gate, type Coverage, type Covers } from '../../src/core/approval/gate.js';
import { workloadImages } from '../../src/core/approval/workloads.js';
import { VouchError } from '../../src/core/errors.js';

const GOOD = `sha256:${'1'.repeat(64)}`;
const GOOD_IMAGE = `127.0.0.1:5000/good@${GOOD}`;
const EVIL = '127.0.0.1:5000/evil:latest';

const approving = (digests: string[]): Covers => async (image): Promise<Coverage> =>
  digests.includes(image.digest)
    ? { ok: true, decision: 'approved', release: { name: 'r', version: '1' }, reviewers: [{ name: 'alice', identity: 'key' }], reasons: [] }
    : { ok: false, decision: null, release: null, reviewers: [], reasons: [{ code: 'NO_APPROVAL', message: 'no approval names this digest' }] };

function refused(text: string, re: RegExp, file = 'm.yaml'): void {
  assert.throws(
    () => workloadImages(text, file),
    (e: unknown) => {
      assert.ok(e instanceof VouchError, String(e));
      assert.equal(e.exitCode, 2);
      assert.ok(e.message.startsWith(`${file}: document `), e.message);
      assert.match(e.message, re);
      return true;
    },
  );
}

const pod = (extra: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: app
      image: ${GOOD_IMAGE}
      ${extra}
`;

test('#1 merge keys: kubectl (go-yaml v2) lets a merge after an explicit image override it; every merge key is refused, exit 2', () => {
  // go-yaml v2 treats `<<` as a merge when the scalar is plain or tagged (`!!merge`, the long
  // form, or the non-specific `!`, which libyaml marks plain-implicit even when quoted).
  refused(pod(`<<: {image: "${EVIL}"}`), /merge key/);
  refused(pod(`!!merge "<<": {image: "${EVIL}"}`), /merge key/);
  refused(pod(`!<tag:yaml.org,2002:merge> "<<": {image: "${EVIL}"}`), /merge key/);
  refused(pod(`! "<<": {image: "${EVIL}"}`), /merge key/);
  refused(pod(`? <<\n      : {image: "${EVIL}"}`), /merge key/);
  // A merge through an anchor (the old "applied as Kubernetes applies them" shape) is refused too.
  refused(`apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nx-base: &base\n  image: ${EVIL}\nspec:\n  containers:\n  - <<: *base\n    name: a\n`, /merge key/);
  // In a flow mapping, and under a YAML 1.1 directive.
  refused(`apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: "${GOOD_IMAGE}", <<: {image: "${EVIL}"}}]}\n`, /merge key/);
  refused(`%YAML 1.1\n---\n${pod(`<<: {image: "${EVIL}"}`)}`, /merge key/);
});

test('#1 a quoted "<<" is a plain key for kubectl as for vouch: the explicit image is the one both read', () => {
  for (const q of ['"<<"', "'<<'"]) {
    const images = workloadImages(pod(`${q}: {image: "${EVIL}"}`), 'm2.yaml');
    // The container runs the explicit image; the `image` under the plain "<<" key runs nothing
    // (an unknown field), but the whole-document walk still reports it: a gap, never a pass.
    assert.deepEqual(images.map((i) => [i.path, i.image]), [
      ['spec.containers[0].image', GOOD_IMAGE],
      ['spec.containers[0].<<.image', EVIL],
    ]);
  }
});

test('#1 tags the two parsers read differently (!!binary keys, custom tags, non-string images) are refused, exit 2', () => {
  // go-yaml decodes a !!binary key to "image": a second image key kubectl would read.
  refused(pod(`!!binary aW1hZ2U=: "${EVIL}"`), /tag/);
  refused(pod('').replace(`image: ${GOOD_IMAGE}`, `image: !!binary ${Buffer.from(EVIL).toString('base64')}`), /tag/);
  refused(pod('').replace(`image: ${GOOD_IMAGE}`, `image: !custom ${GOOD_IMAGE}`), /tag/);
  refused(pod('').replace(`image: ${GOOD_IMAGE}`, `image: ! ${GOOD_IMAGE}`), /tag/);
  refused(pod('').replace(`image: ${GOOD_IMAGE}`, 'image: true'), /not a string/);
  // Collection or alias keys: no Kubernetes field is named by one.
  refused(pod(`? [image]\n      : "${EVIL}"`), /key/);
  // Document separators kubectl's line splitter reads differently from YAML (`---#`, `--- |`) are refused too.
  const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  x: |\n    a\n';
  refused(`${cm}---#\n${pod('')}`, /not valid YAML/);
  refused(`${cm}--- |\n${pod('')}`, /neither a Kubernetes object/);
  // !!str is what a string is anyway.
  assert.equal(workloadImages(pod('').replace(`image: ${GOOD_IMAGE}`, `image: !!str ${GOOD_IMAGE}`), 'm.yaml')[0]!.image, GOOD_IMAGE);
});

test('#8 Argo Workflow templates (container, script, initContainers, sidecars) and Tekton steps/sidecars are gated', () => {
  const text = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: wf
spec:
  entrypoint: main
  templates:
    - name: main
      container:
        image: ${EVIL}
        command: [sh, -c, "id"]
    - name: scripted
      script:
        image: evil/script:1
        source: id
      initContainers:
        - name: init
          image: evil/init:1
      sidecars:
        - name: side
          image: evil/side:1
---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: t
spec:
  steps:
    - name: s
      image: ${EVIL}
  sidecars:
    - name: sc
      image: evil/tekton-side:1
`;
  const images = workloadImages(text, 'argo.yaml');
  assert.deepEqual(
    images.map((i) => [i.document, i.kind, i.name, i.path, i.image]),
    [
      [0, 'Workflow', 'wf', 'spec.templates[0].container.image', EVIL],
      [0, 'Workflow', 'wf', 'spec.templates[1].script.image', 'evil/script:1'],
      [0, 'Workflow', 'wf', 'spec.templates[1].initContainers[0].image', 'evil/init:1'],
      [0, 'Workflow', 'wf', 'spec.templates[1].sidecars[0].image', 'evil/side:1'],
      [1, 'Task', 't', 'spec.steps[0].image', EVIL],
      [1, 'Task', 't', 'spec.sidecars[0].image', 'evil/tekton-side:1'],
    ],
  );
  // The container column names what it can: the container, else the template holding it.
  assert.equal(images[0]!.container, 'main');
  assert.equal(images[2]!.container, 'init');
});

test('#8 the repro file (Argo + Tekton + an approved CronJob) is a gap, not ok', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gate-att-'));
  try {
    const f = join(dir, 'argo.yaml');
    await writeFile(
      f,
      `apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: wf\nspec:\n  entrypoint: main\n  templates:\n    - name: main\n      container:\n        image: ${EVIL}\n---\napiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  steps:\n    - name: s\n      image: ${EVIL}\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cj}\nspec:\n  schedule: "* * * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers:\n            - name: c\n              image: ${GOOD_IMAGE}\n`,
    );
    const r = await gate([f], approving([GOOD]));
    assert.equal(r.ok, false);
    assert.deepEqual(r.images.map((i) => [i.kind, i.ok]), [['Workflow', false], ['Task', false], ['CronJob', true]]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('#8 a Pod image volume (volumes[].image.reference) is gated, and so is an `image` anywhere in a known workload', () => {
  const text = `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: app
      image: ${GOOD_IMAGE}
      volumeMounts: [{name: tools, mountPath: /tools}]
  volumes:
    - name: tools
      image:
        reference: ${EVIL}
        pullPolicy: Always
`;
  // `status` (as `kubectl get -o yaml` prints it) is reported state, not applied: not walked.
  const images = workloadImages(`${text}status:\n  containerStatuses: [{name: app, image: "127.0.0.1:5000/good:1", imageID: x}]\n`, 'imagevolume.yaml');
  assert.deepEqual(images.map((i) => [i.field, i.container, i.path, i.image]), [
    ['containers', 'app', 'spec.containers[0].image', GOOD_IMAGE],
    ['volume', 'tools', 'spec.volumes[0].image.reference', EVIL],
  ]);
  // The same in a Deployment's pod template.
  const dep = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: "${GOOD_IMAGE}"}]\n      volumes: [{name: t, image: {reference: "${EVIL}"}}]\n`;
  assert.deepEqual(workloadImages(dep, 'd.yaml').map((i) => i.path), ['spec.template.spec.containers[0].image', 'spec.template.spec.volumes[0].image.reference']);
});

test('#8 a custom kind cannot hide an image: `image` and `images` anywhere, an image written as a mapping is a gap', async () => {
  const text = `apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  deep:
    nested: [{runner: {image: evil/a:1}}]
  images: [evil/b:1, "127.0.0.1:5000/good@${GOOD}"]
  helper:
    image: {repository: evil/c, tag: "1"}
`;
  const images = workloadImages(text, 'w.yaml');
  assert.deepEqual(images.map((i) => [i.path, i.image]), [
    ['spec.deep.nested[0].runner.image', 'evil/a:1'],
    ['spec.images[0]', 'evil/b:1'],
    ['spec.images[1]', GOOD_IMAGE],
    ['spec.helper.image', null],
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gate-att-'));
  try {
    const f = join(dir, 'w.yaml');
    await writeFile(f, text);
    const r = await gate([f], approving([GOOD]));
    assert.deepEqual(r.images.map((i) => [i.ok, i.reasons.map((x) => x.code).join()]), [
      [false, 'NOT_PINNED'],
      [false, 'NOT_PINNED'],
      [true, ''],
      [false, 'UNREADABLE_IMAGE'],
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('#8 compose include: included files are read (relative to the including file, nested, cycle-safe); remote includes are refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gate-att-'));
  try {
    await mkdir(join(dir, 'sub'));
    const main = join(dir, 'compose.yaml');
    await writeFile(main, `include:\n  - ./extra.yaml\n  - path: [sub/more.yaml]\nservices:\n  api:\n    image: ${GOOD_IMAGE}\n`);
    await writeFile(join(dir, 'extra.yaml'), `services:\n  sidecar:\n    image: ${EVIL}\n    volumes:\n      - {type: image, source: evil/tools:1, target: /tools}\n      - ./data:/data\n`);
    // Relative to its own folder; includes the main file back (a cycle).
    await writeFile(join(dir, 'sub', 'more.yaml'), `include:\n  - ../compose.yaml\nservices:\n  worker:\n    build: ./worker\n`);
    const r = await gate([main], approving([GOOD]));
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.images.map((i) => [i.file, i.container, i.ok, i.reasons.map((x) => x.code).join()]),
      [
        [main, 'api', true, ''],
        [join(dir, 'extra.yaml'), 'sidecar', false, 'NOT_PINNED'],
        // A compose image volume mounts another image: gated too.
        [join(dir, 'extra.yaml'), 'sidecar', false, 'NOT_PINNED'],
        [join(dir, 'sub', 'more.yaml'), 'worker', false, 'NO_IMAGE'],
      ],
    );
    assert.equal(r.images[2]!.path, 'services.sidecar.volumes[0].source');
    // build without image: reported as not pinned, nothing reviewed.
    assert.match(r.images[3]!.reasons[0]!.message, /builds/);
    const remote = join(dir, 'remote.yaml');
    await writeFile(remote, `include:\n  - oci://registry.example.com/compose:latest\nservices:\n  api:\n    image: ${GOOD_IMAGE}\n`);
    await assert.rejects(gate([remote], approving([GOOD])), (e: unknown) => e instanceof VouchError && e.exitCode === 2 && e.message.startsWith(remote) && /include/.test(e.message));
    const missing = join(dir, 'missing-include.yaml');
    await writeFile(missing, `include: [./nope.yaml]\nservices: {}\n`);
    await assert.rejects(gate([missing], approving([GOOD])), (e: unknown) => e instanceof VouchError && e.exitCode === 2 && /nope\.yaml/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('#8 a file that is neither Kubernetes nor Compose is exit 2; a file with no images is a warning (and, alone, a failure)', async () => {
  refused('just: a\nmapping: here\n', /neither a Kubernetes object .* nor a Compose file/);
  refused('- a\n- list\n', /neither a Kubernetes object .* nor a Compose file/);
  refused('kind: List\nitems:\n- {metadata: {name: x}, spec: {containers: [{name: a, image: evil:1}]}}\n', /neither a Kubernetes object/);
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gate-att-'));
  try {
    const f = join(dir, 'svc.yaml');
    await writeFile(f, 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n---\n');
    const r = await gate([f], approving([GOOD]));
    assert.equal(r.images.length, 0);
    // Nothing gated across all files is a failure (newcomer 7) unless the caller allows it.
    assert.equal(r.ok, false);
    assert.equal(r.empty, true);
    assert.equal((await gate([f], approving([GOOD]), { allowEmpty: true })).ok, true);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /svc\.yaml: no images/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
