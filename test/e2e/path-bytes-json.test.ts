/**
 * Newcomer review of issue 9: names that are not UTF-8 in every JSON output.
 * Two files `tool\xff` and `tool\xfe` must stay two after `jq` (lone-surrogate
 * escapes `\udcff` become U+FFFD there), and `check --format sarif` must not
 * crash on them (encodeURIComponent threw "URI malformed").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathBytesJson } from '../../src/core/util/path-bytes.js';
import { terminalSafeJson } from '../../src/core/util/sanitize.js';
import { spawnCli } from '../helpers/inspect.js';
import { tar } from '../helpers/tar-writer.js';
import { rawNameEntry, writeLayersLayout } from '../helpers/layer-layout.js';

const toolFF = Buffer.from([...Buffer.from('usr/bin/tool'), 0xff]);
const toolFE = Buffer.from([...Buffer.from('usr/bin/tool'), 0xfe]);
const jq = (json: string, filter: string): string => execFileSync('jq', ['-c', filter], { input: json }).toString().trim();

test('terminalSafeJson: a name that is not UTF-8 is display text plus base64 bytes; a literal "\\xff" name has no bytes field; no lone surrogate', () => {
  const text = terminalSafeJson({ a: { path: '/t\udcff' }, b: { path: '/t\\xff' }, c: ['/t\udcfe'], d: { path: '/plain' } });
  assert.doesNotMatch(text, /\\ud[c-f]/i);
  const v = JSON.parse(text);
  assert.deepEqual(v.a, { path: '/t\\xff', pathBytes: Buffer.from([0x2f, 0x74, 0xff]).toString('base64') });
  assert.deepEqual(v.b, { path: '/t\\xff' });
  assert.deepEqual(v.c, ['/t\\xfe']);
  assert.deepEqual(v.d, { path: '/plain' });
  assert.equal(pathBytesJson('', 'x'), 'x');
});

test('check --format json|sarif and inspect --json on tool\\xff + tool\\xfe: valid JSON jq keeps distinct, SARIF URIs %FF/%FE', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-pbjson-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const layer = tar([
    { name: 'usr/', type: 'dir', mode: 0o755 },
    { name: 'usr/bin/', type: 'dir', mode: 0o755 },
    rawNameEntry(toolFF, { data: 'setuid tool\n', mode: 0o4755 }),
    rawNameEntry(toolFE, { data: 'other tool!\n', mode: 0o4755 }),
  ]);
  const l = await writeLayersLayout(join(dir, 'layout'), [layer]);
  const env = { VOUCH_CACHE_DIR: join(dir, 'cache'), XDG_CACHE_HOME: join(dir, 'xdg') };

  const json = await spawnCli(['check', l.ref, '--format', 'json'], env);
  assert.ok(json.code === 0 || json.code === 1, json.stderr);
  assert.doesNotMatch(json.stdout, /\\ud[c-f]/i);
  const setuid = jq(json.stdout, '[.results[] | select(.id == "VCH-LP-002" and .status == "fail") | .subject | [.path, .pathBytes]] | sort');
  const expected = [toolFE, toolFF].map((b) => [`/${b.subarray(0, -1).toString()}\\x${b.at(-1)!.toString(16)}`, Buffer.concat([Buffer.from('/'), b]).toString('base64')]);
  assert.deepEqual(JSON.parse(setuid), expected);

  const sarif = await spawnCli(['check', l.ref, '--format', 'sarif'], env);
  assert.ok(sarif.code === 0 || sarif.code === 1, sarif.stderr);
  const uris = JSON.parse(jq(sarif.stdout, '[.runs[0].results[] | select(.ruleId == "VCH-LP-002") | .locations[0].physicalLocation.artifactLocation.uri] | sort'));
  assert.deepEqual(uris, ['usr/bin/tool%FE', 'usr/bin/tool%FF']);

  const inspect = await spawnCli(['inspect', l.ref, '--json'], env);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.doesNotMatch(inspect.stdout, /\\ud[c-f]/i);
  jq(inspect.stdout, '.'); // jq accepts it
});
