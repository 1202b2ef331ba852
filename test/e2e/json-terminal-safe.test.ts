/**
 * Every command's `--json` goes through one terminal-safe serialiser
 * (terminalSafeJson): bidi overrides, C1 controls, DEL and invisible characters
 * from untrusted input (a session annotation's author, a manifest's
 * metadata.name, a file name in an image, an approval's image name) are written
 * as \uXXXX escapes, so printing the JSON cannot reorder or hide text, and the
 * JSON still parses back to the original strings.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ensureDemoImage } from '../../src/core/demo/demo-image.js';
import { terminalSafeJson } from '../../src/core/util/sanitize.js';
import { makeReviewers } from '../helpers/approval.js';
import { writeApproval } from '../helpers/approved.js';
import { runCli, testCacheDir } from '../helpers/inspect.js';
import { writeMiniLayout } from '../helpers/mini-layout.js';

/** Right-to-left override, CSI as one C1 character, DEL, zero-width space, soft hyphen, pop directional isolate. */
const H = 'web\u202e\u009b2J\u007f\u200b\u00ad\u2069end';
const RAW = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u;

/** Every string in a parsed JSON value. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (out.push(k), strings(x, out));
  return out;
}

function assertSafe(label: string, stdout: string, expect: string = H): void {
  assert.doesNotMatch(stdout, RAW, `${label}: a raw control/bidi/C1 character reached stdout`);
  const lines = stdout.trim().split('\n');
  const parsed = stdout.trim().startsWith('{') || stdout.trim().startsWith('[') || stdout.trim().startsWith('"') ? JSON.parse(stdout) : lines.map((l) => JSON.parse(l));
  assert.ok(strings(parsed).some((x) => x.includes(expect)), `${label}: the JSON parses back to the original string`);
}

let dir: string;
before(() => {
  process.env.VOUCH_KEY_PASSWORD = 'pass phrase';
  dir = mkdtempSync(join(tmpdir(), 'vouch-json-safe-'));
});

test('terminalSafeJson: bidi, C1, DEL and invisible characters as \\uXXXX; the value parses back; names that are not UTF-8 get their Bytes sibling', () => {
  const text = terminalSafeJson({ a: H, path: '/t\udcff' }, 2);
  assert.doesNotMatch(text, RAW);
  assert.match(text, /\\u202e\\u009b2J\\u007f\\u200b\\u00ad\\u2069/);
  assert.doesNotMatch(text, /\\ud[c-f][0-9a-f]{2}/i);
  assert.deepEqual(JSON.parse(text), { a: H, path: '/t\\xff', pathBytes: Buffer.from([0x2f, 0x74, 0xff]).toString('base64') });
});

test('no command writes JSON to stdout with JSON.stringify: every --json goes through terminalSafeJson', () => {
  const root = new URL('../../src/cli/', import.meta.url);
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 10);
  for (const f of files) {
    const text = readFileSync(new URL(f, root), 'utf8');
    assert.ok(!/io\.out\([^\n]*\$\{JSON\.stringify\(/.test(text), `${f}: io.out(JSON.stringify(…)) prints raw bidi/C1 characters; use terminalSafeJson`);
  }
});

describe('each command, hostile input, --json', () => {
  test('annotate, session show, approve (refused and accepted): an annotation author and text with bidi/C1', async () => {
    const ref = (await ensureDemoImage(testCacheDir)).reference;
    assert.equal((await runCli(['key', 'generate', '--out', join(dir, 'alice')])).code, 0);
    writeFileSync(join(dir, 'vouch.trust.yaml'), 'reviewers:\n  - {name: alice, key: ./alice.pub}\n');
    writeFileSync(join(dir, 'vouch.release.yaml'), `name: demo\nversion: 1.0.0\nimages:\n  app: ${ref}\ntrust: ./vouch.trust.yaml\n`);
    const init = await runCli(['session', 'init', '--release', join(dir, 'vouch.release.yaml'), '--json']);
    assert.equal(init.code, 0, init.stderr);
    const session = JSON.parse(init.stdout).session as string;
    const s = JSON.parse(readFileSync(session, 'utf8'));
    const failing = [...new Set(s.images[0].checks.results.filter((x: any) => x.status === 'fail').map((x: any) => x.id))] as string[];
    for (const id of failing) {
      const r = await runCli(['annotate', '--session', session, '--check', id, '--disposition', 'accepted-risk', '--text', `ok ${H}`, '--author', 'alice', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assertSafe('annotate', r.stdout);
    }
    // The attacker edits the session file: every annotation now written by H.
    const forged = JSON.parse(readFileSync(session, 'utf8'));
    for (const a of forged.annotations) a.author = H;
    writeFileSync(session, JSON.stringify(forged, null, 2));
    const show = await runCli(['session', 'show', session, '--json']);
    assert.equal(show.code, 0, show.stderr);
    assertSafe('session show', show.stdout);
    const approve = (extra: string[]) => runCli(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--reviewer', 'alice', '--trust', join(dir, 'vouch.trust.yaml'), '--out', join(dir, 'out.sigstore.json'), '--json', ...extra]);
    const refused = await approve([]);
    assert.equal(refused.code, 1, refused.stderr);
    assertSafe('approve (refused)', refused.stdout);
    const ok = await approve(['--accept-annotations-by', H]);
    assert.equal(ok.code, 0, ok.stderr);
    assertSafe('approve (signed)', ok.stdout);
  });

  test('gate and verify: a manifest metadata.name and an approved image name with bidi/C1', async () => {
    const rv = await makeReviewers(['alice']);
    writeFileSync(join(rv.dir, 'trust.yaml'), rv.trustYaml(['alice']));
    const digest = `sha256:${'a'.repeat(64)}`;
    const approval = await writeApproval(rv, 'alice', [{ name: `registry.example/${H}`, digest }], rv.dir, 'app');
    const pod = join(rv.dir, 'pod.yaml');
    writeFileSync(pod, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${JSON.stringify(H)}\nspec:\n  containers:\n    - name: ${JSON.stringify(`c${H}`)}\n      image: ${JSON.stringify(`nginx${H}@${digest}`)}\n`);
    const gate = await runCli(['gate', pod, '--approvals', approval, '--trust', join(rv.dir, 'trust.yaml'), '--json']);
    assert.ok([0, 1].includes(gate.code), gate.stderr);
    assertSafe('gate', gate.stdout);
    const verify = await runCli(['verify', approval, '--image', `registry.example/${H}@${digest}`, '--trust', join(rv.dir, 'trust.yaml'), '--json']);
    assert.ok([0, 1].includes(verify.code), verify.stderr);
    assertSafe('verify', verify.stdout);
  });

  test('config, key and policy: a preference value, a key path and a policy name with bidi/C1', async () => {
    const prev = process.env.VOUCH_CONFIG_DIR;
    process.env.VOUCH_CONFIG_DIR = mkdtempSync(join(tmpdir(), 'vouch-json-safe-config-'));
    try {
      // The preference store refuses C0 controls and DEL; C1 and bidi it keeps.
      const value = H.replace('\u007f', '');
      const set = await runCli(['config', 'set', 'reviewer.name', value]);
      assert.equal(set.code, 0, set.stderr);
      const get = await runCli(['config', 'get', 'reviewer.name', '--json']);
      assert.equal(get.code, 0, get.stderr);
      assertSafe('config get', get.stdout, value);
      const list = await runCli(['config', 'list', '--json']);
      assertSafe('config list', list.stdout, value);
    } finally {
      if (prev === undefined) delete process.env.VOUCH_CONFIG_DIR;
      else process.env.VOUCH_CONFIG_DIR = prev;
    }
    const key = await runCli(['key', 'generate', '--out', join(dir, H), '--json']);
    assert.equal(key.code, 0, key.stderr);
    assertSafe('key generate', key.stdout);
    const policy = await runCli(['policy', 'kyverno', '--trust', join(dir, 'vouch.trust.yaml'), '--name', H, '--json']);
    assert.equal(policy.code, 0, policy.stderr);
    assertSafe('policy', policy.stdout);
  });

  test('inspect, sbom, check and diff: a file name with bidi/C1 in the image', async () => {
    const a = await writeMiniLayout(join(dir, 'a'), { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }] });
    const b = await writeMiniLayout(join(dir, 'b'), {
      tag: 'v1',
      platforms: [{ os: 'linux', architecture: 'amd64' }],
      files: () => [{ path: 'etc/os-release', content: 'NAME=x\n' }, { path: `usr/bin/${H}`, content: '#!/bin/sh\n', mode: 0o4755 }, { path: 'usr/lib/node_modules/x/package.json', content: JSON.stringify({ name: H, version: '1.0.0' }) }],
    });
    const refB = `oci:${b.dir}:v1`;
    for (const args of [['inspect', refB, '--json'], ['sbom', refB, '--json'], ['check', refB, '--json'], ['check', refB, '--format', 'sarif'], ['diff', `oci:${a.dir}:v1`, refB, '--json']]) {
      const r = await runCli(args);
      assert.ok([0, 1].includes(r.code), `${args.join(' ')}: ${r.stderr}`);
      assertSafe(args.slice(0, 2).join(' '), r.stdout);
    }
  });
});
