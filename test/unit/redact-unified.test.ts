/** Issue 9 item 11: one redaction rule for inspect, diff and check (text and JSON); --show-secrets opts out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OciLayoutWriter } from '../../src/core/oci/layout-writer.js';
import { TarWriter } from '../../src/core/oci/tar-writer.js';
import { isSecretEnv, isSecretName, REDACTED } from '../../src/core/util/redact.js';
import { runCli } from '../helpers/inspect.js';

const SECRETS = ['tok-abc123xyz', 'hunter2pw', 'ghp_' + 'a1B2'.repeat(9), 'sup3rs3cretv4lue'];

async function image(dir: string, token: string): Promise<void> {
  const w = new TarWriter();
  const data = Buffer.from('x');
  w.add({ path: 'app/x', type: 'file', size: 1 }, data);
  // A package cache, so that a check names this layer (and its history line) as its subject.
  w.add({ path: 'var/cache/apk/APKINDEX.tar.gz', type: 'file', size: 1 }, data);
  w.finish();
  const o = await OciLayoutWriter.create(dir);
  await o.addLayer(Buffer.concat(w.take()), { createdBy: `/bin/sh -c #(nop)  RUN DB_PASSWORD=${SECRETS[3]} apk add curl` });
  await o.finish({
    tags: ['v1'],
    created: '2024-01-01T00:00:00Z',
    config: {
      Env: ['PATH=/usr/bin', `API_TOKEN=${token}`, `DATABASE_URL=postgres://svc:${SECRETS[1]}@db/app`, 'LANG=C.UTF-8'],
      Cmd: ['serve', `--token=${token}`],
    },
    labels: { 'org.example.ci-token': SECRETS[2]!, 'org.example.team': 'core' },
  });
}

const work = mkdtempSync(join(tmpdir(), 'vouch-redact-'));
const ready = Promise.all([image(join(work, 'a'), SECRETS[0]!), image(join(work, 'b'), 'tok-other999zz')]);
const ref = `oci:${join(work, 'a')}:v1`;

test('one rule: names with or without separators, placeholders, empty values', () => {
  for (const n of ['DB_PASSWORD', 'DBPASSWORD', 'API_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'GITLABAPIKEY', 'client.secret']) assert.ok(isSecretName(n), n);
  for (const n of ['KEYBOARD', 'MONKEY', 'NODE_ENV', 'PATH', 'TOKENIZERS_PARALLELISM']) assert.ok(!isSecretName(n), n);
  assert.ok(isSecretEnv('API_TOKEN', 'x'));
  assert.ok(!isSecretEnv('API_TOKEN', ''), 'an empty value hides nothing');
});

test('inspect redacts secret-looking env values, labels, cmd and history lines in text and JSON; --show-secrets prints them', async () => {
  await ready;
  const j = await runCli(['inspect', ref, '--json']);
  const t = await runCli(['inspect', ref]);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(t.code, 0, t.stderr);
  for (const s of SECRETS) {
    assert.ok(!j.stdout.includes(s), `${s} in inspect --json`);
    assert.ok(!t.stdout.includes(s), `${s} in inspect text`);
  }
  const doc = JSON.parse(j.stdout);
  assert.ok(doc.config.env.includes(`API_TOKEN=${REDACTED}`));
  assert.ok(doc.config.env.includes('LANG=C.UTF-8'));
  assert.equal(doc.config.labels['org.example.team'], 'core');
  assert.equal(doc.config.labels['org.example.ci-token'], REDACTED);
  assert.match(t.stdout, /API_TOKEN=<redacted>/);
  const shown = await runCli(['inspect', ref, '--json', '--show-secrets']);
  for (const s of SECRETS) assert.ok(shown.stdout.includes(s), `--show-secrets prints ${s}`);
  // The cache keeps what the image holds: redaction happens on output only.
  const again = await runCli(['inspect', ref, '--json']);
  // Same document apart from how the analysis was reached (the first run analysed, this one read the cache).
  const noCache = (text: string): unknown => ({ ...JSON.parse(text), cache: undefined });
  assert.deepEqual(noCache(again.stdout), noCache(j.stdout));
});

test('diff and check redact with the same rule; --show-secrets opts out on both', async () => {
  await ready;
  const b = `oci:${join(work, 'b')}:v1`;
  const d = await runCli(['diff', ref, b, '--json']);
  assert.equal(d.code, 0, d.stderr);
  for (const s of SECRETS) assert.ok(!d.stdout.includes(s), `${s} in diff`);
  const ds = await runCli(['diff', ref, b, '--json', '--show-secrets']);
  assert.ok(ds.stdout.includes(SECRETS[0]!));
  const c = await runCli(['check', ref, '--format', 'json']);
  for (const s of SECRETS) assert.ok(!c.stdout.includes(s), `${s} in check`);
  const cs = await runCli(['check', ref, '--format', 'json', '--show-secrets']);
  assert.ok(cs.stdout.includes(SECRETS[3]!), 'check --show-secrets shows the history line as it is');
});
