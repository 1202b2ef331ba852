/**
 * Fuzz targets for the review and approval files and the gate's input:
 *   - approval.session: the review session file (JSON), through parseSession;
 *   - approval.record: signed approval bundles (made once with the real signing
 *     helpers: a reviewer key, signApprovalStatement), mutated, through
 *     parseApproval and verifyApprovalSignature: a record that still verifies
 *     must be byte for byte the one that was signed (nothing unsigned may vary);
 *   - approval.attach-bundle: the same bundles as `vouch attach` reads them from a
 *     file, through readApprovalBundle and cosignAttestationLayer;
 *   - approval.workloads: Kubernetes and Compose manifests (Deployments, Pods,
 *     CronJobs, Lists, custom kinds, image volumes, compose services and includes),
 *     through workloadImages, pinnedImage and the gate's gateImages.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { cosignAttestationLayer, readApprovalBundle } from '../../../src/core/approval/attach.js';
import { gateImages } from '../../../src/core/approval/gate.js';
import { parseApproval, verifyApprovalSignature } from '../../../src/core/approval/verify.js';
import { pinnedImage, workloadImages } from '../../../src/core/approval/workloads.js';
import { parseSession } from '../../../src/core/review/schema.js';
import type { TrustFile } from '../../../src/core/trust/trust-file.js';
import { fakeSession, makeReviewers } from '../../helpers/approval.js';
import { writeApproval } from '../../helpers/approved.js';
import { fuzzTarget } from '../harness.js';
import { applyJsonEdits, applyTextEdits, broken, checkReason, flipBase64, jsonDocuments, jsonEdit, resultOrTyped, resultOrTypedAsync, textEdit, yamlDocuments, type JsonEdit, type TextEdit } from '../trust-common.js';

// ---------------------------------------------------------------- session

let sessions: unknown[] | undefined;

function sessionSeeds(): unknown[] {
  if (sessions) return sessions;
  const plain = fakeSession();
  const rich = fakeSession({ multiPlatform: true, failing: [{ id: 'VCH-LP-002', severity: 'high', subject: '/usr/bin/su' }] });
  rich.annotations = [
    {
      id: 'a1',
      subject: { kind: 'check', image: 'api', id: 'VCH-LP-002', value: '/usr/bin/su' },
      disposition: 'accepted-risk',
      severity: 'high',
      text: 'reviewed',
      author: 'alice',
      at: '2026-01-01T00:00:00.000Z',
      deleted: false,
      createdAt: '2026-01-01T00:00:00.000Z',
      history: [],
    } as never,
  ];
  sessions = [plain, rich];
  return sessions;
}

export const sessionTarget = fuzzTarget<Buffer>({
  name: 'approval.session',
  entry: 'review/schema.ts parseSession (JSON, version, schema-check)',
  arbitrary: fc.constant(null).chain(() => jsonDocuments(sessionSeeds())),
  ciRuns: 200,
  run(bytes) {
    const s = resultOrTyped(() => parseSession(bytes.toString('utf8'), '/r/payments.session.json'));
    // A session that parses re-serialises to a session that parses the same.
    if (s && JSON.stringify(parseSession(JSON.stringify(s), 'again')) !== JSON.stringify(s)) broken('a parsed session does not read back the same');
  },
  show: (b) => b.toString('utf8').slice(0, 4000),
});

// ---------------------------------------------------------------- approval records

interface ApprovalSeeds {
  bytes: Buffer[];
  trust: TrustFile;
  digest: string;
  dir: string;
}
let approvals: Promise<ApprovalSeeds> | undefined;
/** The seeds once made (show() is synchronous). */
let madeSeeds: ApprovalSeeds | undefined;

const APPROVED = { name: 'registry.example.com/payments/api', digest: `sha256:${'a'.repeat(64)}` };

/** Two real approvals (alice approves; bob rejects), signed once per process with the test helpers. */
function approvalSeeds(): Promise<ApprovalSeeds> {
  approvals ??= (async () => {
    const rv = await makeReviewers(['alice', 'bob']);
    const paths = [await writeApproval(rv, 'alice', [APPROVED], rv.dir, 'alice'), await writeApproval(rv, 'bob', [APPROVED, { name: 'registry.example.com/payments/worker', digest: `sha256:${'b'.repeat(64)}` }], rv.dir, 'bob', 'rejected')];
    const { readFileSync } = await import('node:fs');
    const trust = await rv.trust(['alice', 'bob']);
    const bytes = paths.map((p) => readFileSync(p));
    for (const b of bytes) {
      const v = verifyApprovalSignature(parseApproval(b, 'seed'), APPROVED.digest, trust);
      if (!v.verified) throw new Error(`approval seed does not verify: ${v.code} ${v.message}`);
    }
    madeSeeds = { bytes, trust, digest: APPROVED.digest, dir: mkdtempSync(join(tmpdir(), 'vouch-fuzz-approval-')) };
    return madeSeeds;
  })();
  return approvals;
}

interface RecordCase {
  seed: number;
  how: 'keep' | 'json' | 'text' | 'statement' | 'flip' | 'raw';
  json: JsonEdit[];
  text: TextEdit[];
  field: number;
  pos: number;
  bit: number;
  raw: Uint8Array;
  newline: boolean;
}

const recordCase: fc.Arbitrary<RecordCase> = fc.record({
  seed: fc.nat(),
  how: fc.constantFrom<RecordCase['how']>('keep', 'json', 'json', 'json', 'text', 'statement', 'statement', 'flip', 'raw'),
  json: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }),
  text: fc.array(textEdit, { minLength: 1, maxLength: 3 }),
  field: fc.nat(),
  pos: fc.nat(),
  bit: fc.integer({ min: 0, max: 7 }),
  raw: fc.uint8Array({ maxLength: 300 }),
  newline: fc.boolean(),
});

function recordInput(seeds: ApprovalSeeds, c: RecordCase): Buffer {
  const base = seeds.bytes[c.seed % seeds.bytes.length]!;
  const doc = JSON.parse(base.toString('utf8'));
  const out = (v: unknown) => Buffer.from((JSON.stringify(v) ?? 'null') + (c.newline ? '\n' : ''));
  switch (c.how) {
    case 'keep':
      return out(doc);
    case 'json':
      return out(applyJsonEdits(doc, c.json));
    case 'text':
      return applyTextEdits(base, c.text);
    case 'raw':
      return Buffer.from(c.raw);
    case 'statement': {
      // The statement edited and put back (as a forger would): the signature no longer covers it.
      const st = JSON.parse(Buffer.from(doc.dsseEnvelope.payload, 'base64').toString('utf8'));
      doc.dsseEnvelope.payload = Buffer.from(JSON.stringify(applyJsonEdits(st, c.json)) ?? 'null').toString('base64');
      return out(doc);
    }
    case 'flip': {
      const fields: Array<[any, string]> = [
        [doc.dsseEnvelope, 'payload'],
        [doc.dsseEnvelope.signatures[0], 'sig'],
      ];
      const [holder, key] = fields[c.field % fields.length]!;
      holder[key] = flipBase64(holder[key], c.pos, c.bit);
      return out(doc);
    }
  }
}

export const approvalRecordTarget = fuzzTarget<RecordCase>({
  name: 'approval.record',
  entry: 'approval/verify.ts parseApproval (canonical JSON, bundle shape, statement schema), verifyApprovalSignature',
  arbitrary: recordCase,
  ciRuns: 200,
  async run(c) {
    const seeds = await approvalSeeds();
    const bytes = recordInput(seeds, c);
    const a = resultOrTyped(() => parseApproval(bytes, '/r/approvals/x.sigstore.json'));
    if (!a) return;
    const v = resultOrTyped(() => verifyApprovalSignature(a, seeds.digest, seeds.trust));
    if (v) checkReason(v.message);
    if (!v?.verified) return;
    const body = (b: Buffer) => b.toString('utf8').replace(/\n$/, '');
    if (!seeds.bytes.some((s) => body(s) === body(bytes))) broken('an approval that is not byte for byte the signed one verified');
  },
  show: (c) => `seed ${c.seed % 2} (${c.how}): ${madeSeeds ? JSON.stringify(recordInput(madeSeeds, c).toString('utf8')).slice(0, 6000) : ''}`,
});

export const attachBundleTarget = fuzzTarget<RecordCase>({
  name: 'approval.attach-bundle',
  entry: 'approval/attach.ts readApprovalBundle, cosignAttestationLayer',
  arbitrary: recordCase,
  ciRuns: 150,
  async run(c) {
    const seeds = await approvalSeeds();
    const path = join(seeds.dir, 'case.sigstore.json');
    writeFileSync(path, recordInput(seeds, c));
    const b = await resultOrTypedAsync(() => readApprovalBundle(path));
    if (b) resultOrTyped(() => cosignAttestationLayer(b));
  },
  show: (c) => `seed ${c.seed % 2} (${c.how}): ${madeSeeds ? JSON.stringify(recordInput(madeSeeds, c).toString('utf8')).slice(0, 6000) : ''}`,
});

// ---------------------------------------------------------------- workloads (vouch gate)

const PIN = `registry.example.com/payments/api@sha256:${'a'.repeat(64)}`;
const WORKLOAD_SEEDS = [
  `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: ${PIN}
      containers:
        - name: api
          image: ${PIN}
        - name: sidecar
          image: docker.io/library/nginx:1.27
      volumes:
        - name: data
          image: {reference: ${PIN}, pullPolicy: IfNotPresent}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: "${PIN}"}]
`,
  `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: p}
    spec:
      containers: [{name: c, image: busybox}]
      ephemeralContainers: [{name: debug, image: "${PIN}"}]
  - apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata: {name: wf}
    spec:
      templates:
        - name: main
          container: {image: "${PIN}"}
  - apiVersion: v1
    kind: ConfigMap
    data: {image: not-an-image}
`,
  `services:
  api:
    image: ${PIN}
    volumes:
      - {type: image, source: "${PIN}", target: /data}
  builder:
    build: .
x-common: &common
  image: alpine
include:
  - ./other.yaml
`,
];

export const workloadsTarget = fuzzTarget<string>({
  name: 'approval.workloads',
  entry: 'approval/workloads.ts workloadImages, pinnedImage; gate.ts gateImages',
  arbitrary: yamlDocuments(WORKLOAD_SEEDS),
  ciRuns: 120,
  async run(text) {
    const found = resultOrTyped(() => workloadImages(text, 'deploy.yaml', []));
    if (!found) return;
    for (const w of found) {
      const p = resultOrTyped(() => pinnedImage(w.image));
      if (p && 'code' in p) checkReason(p.message);
    }
    // The gate over what was found, with coverage that approves every pinned image: an unpinned or missing image must still fail.
    const gated = await resultOrTypedAsync(() => gateImages(found, async () => ({ ok: true, decision: 'approved', release: null, reviewers: [], reasons: [] })));
    for (const g of gated ?? []) if (g.ok && (g.digest === null || !g.image?.includes(g.digest))) broken(`the gate passed ${JSON.stringify(g.image)} at ${g.path}, which is not pinned by that digest`);
  },
  show: (s) => JSON.stringify(s),
});
