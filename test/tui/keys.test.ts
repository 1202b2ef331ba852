/** Key overrides from the preferences: the one key table, the help, `vouch config set` refusing conflicts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Key } from 'ink';
import { applyKeyOverrides, keyMatcher, showKeys } from '../../src/tui/keys.js';
import { checkPreference, keyTableFrom, openPreferences } from '../../src/tui/preferences.js';
import { spawnCli } from '../helpers/inspect.js';
import { main } from '../../src/cli/main.js';
import { KEY, open } from './fixture.js';

const NO_KEY: Key = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false };
const cursorLine = (frame: string): string => frame.split('\n').find((l) => l.includes('›')) ?? '';
const helpLine = (frame: string, help: string): string => frame.split('\n').find((l) => l.includes(help)) ?? '';

test('an override replaces the keys of its action; the others keep theirs', () => {
  const t = applyKeyOverrides({ down: 'down N', quit: 'Q' });
  const match = keyMatcher(t);
  assert.equal(match('N', NO_KEY), 'down');
  assert.equal(match('', { ...NO_KEY, downArrow: true }), 'down', 'named keys are case-insensitive');
  assert.equal(match('j', NO_KEY), null, 'j no longer moves down');
  assert.equal(match('q', NO_KEY), null);
  assert.equal(match('Q', { ...NO_KEY, shift: true }), 'quit');
  assert.equal(match('k', NO_KEY), 'up');
  assert.equal(showKeys(t.find((b) => b.action === 'down')!), '↓ N');
  assert.equal(match('k', { ...NO_KEY, ctrl: true }), null, 'Ctrl-k is not k');
});

test('conflicting, unknown and malformed overrides are refused naming the key', () => {
  assert.throws(() => applyKeyOverrides({ down: 'k' }, 'down'), /keys\.down: "k" is already the key of up \(move up\)/);
  // Two stored overrides that collide: the one being set is named, not the other.
  assert.throws(() => applyKeyOverrides({ up: 'i', down: 'i' }, 'up'), /^Error: keys\.up: "i" is already the key of down/);
  assert.throws(() => applyKeyOverrides({ annotate: '3' }), /keys\.annotate: "3" is already the key of screen/, 'the screen numbers are taken');
  assert.throws(() => applyKeyOverrides({ screen: 'x' }), /unknown key "keys\.screen"/);
  assert.throws(() => applyKeyOverrides({ jump: 'x' }), /unknown key "keys\.jump"/);
  assert.throws(() => applyKeyOverrides({ up: 'Ctrl-X' }), /keys\.up: "Ctrl-X" is not a key/);
  assert.throws(() => applyKeyOverrides({ up: '  ' }), /keys\.up needs one or more keys/);
  assert.throws(() => applyKeyOverrides({ up: '\x1b' }), /is not a key/, 'a raw control character is no key');
  assert.throws(() => checkPreference('keys.down', 'k'), /^VouchError: config: keys\.down: "k" is already the key of up/);
  assert.throws(() => checkPreference('keys.down', 'i', { up: 'i' }), /keys\.down: "i" is already the key of up/, 'stored overrides count');
  assert.doesNotThrow(() => checkPreference('keys.down', 'k', { up: 'Up i' }), 'k is free once up is rebound');
});

test('the workbench uses the overrides: keys move, the help and the hints show the effective keys', async () => {
  const keys = applyKeyOverrides({ down: 'Down n', sort: 'o', quit: 'Q' });
  const t = await open({ keys });
  assert.match(t.frame(), /Q quit/, 'the status line names the rebound quit key');
  let f = await t.press('3');
  assert.match(f, /NAME \(sort: name, o changes\)/);
  const first = cursorLine(f);
  f = await t.press('n');
  assert.notEqual(cursorLine(f), first, 'n moves down');
  f = await t.press('o');
  assert.match(f, /sort: type/);
  f = await t.press('?');
  assert.match(f, /Keys \(Esc or \? closes\)/);
  assert.match(helpLine(f, 'move down'), /^↓ n\s/);
  assert.match(helpLine(f, 'next sort column'), /^o\s/);
  assert.match(helpLine(f, 'quit'), /^Q\s/);
  f = await t.press(KEY.esc, 'q');
  assert.match(f, /NAME \(sort/, 'q no longer quits');
  await t.press('Q');
  assert.doesNotMatch(await t.press('2'), /MERGED FILESYSTEM/, 'Q quit');
});

test('the App reads the overrides from the preferences store; a store edited into a conflict falls back to the defaults and says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-keys-'));
  const prefs = openPreferences({ VOUCH_CONFIG_DIR: dir });
  prefs.set('keys', { filter: 'f' });
  assert.equal(keyTableFrom(prefs).table.find((b) => b.action === 'filter')!.keys.join(' '), 'f');
  assert.equal(statSync(prefs.path).mode & 0o777, 0o600, 'the preferences file is 0600');
  const saved = process.env.VOUCH_CONFIG_DIR;
  process.env.VOUCH_CONFIG_DIR = dir;
  try {
    // keys: undefined → the App's own default, the preferences.
    let t = await open({ keys: undefined as never });
    let f = await t.press('3', 'f');
    f = await t.type('lod');
    assert.match(f, /1 of 5 packages/, 'f starts the filter');
    t.unmount();
    writeFileSync(prefs.path, JSON.stringify({ keys: { up: 'j' } }));
    t = await open({ keys: undefined as never });
    assert.match(t.frame(), /key overrides ignored: keys\.up: "j" is already the key of down/);
    f = await t.press('?');
    assert.match(helpLine(f, 'move up'), /^↑ k\s/);
    t.unmount();
  } finally {
    if (saved === undefined) delete process.env.VOUCH_CONFIG_DIR;
    else process.env.VOUCH_CONFIG_DIR = saved;
  }
});

/** `vouch …` in this process (the same main as the binary), with the preferences in `dir`. */
async function vouch(dir: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const saved = process.env.VOUCH_CONFIG_DIR;
  process.env.VOUCH_CONFIG_DIR = dir;
  let out = '';
  let err = '';
  try {
    const code = await main(argv, { out: (x) => (out += x), err: (x) => (err += x), setExitCode: () => {} });
    return { code, out, err };
  } finally {
    if (saved === undefined) delete process.env.VOUCH_CONFIG_DIR;
    else process.env.VOUCH_CONFIG_DIR = saved;
  }
}

test('vouch config set keys.<action>: stored 0600, listed; conflicts and unknown keys exit 2 with one line naming the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-keys-cli-'));
  const ok = await vouch(dir, 'config', 'set', 'keys.down', 'Down n');
  assert.equal(ok.code, 0, ok.err);
  const list = JSON.parse((await vouch(dir, 'config', 'list', '--json')).out);
  assert.equal(list['keys.down'], 'Down n');
  assert.equal(statSync(list.path).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(list.path, 'utf8')).keys, { down: 'Down n' });
  assert.equal((await vouch(dir, 'config', 'get', 'keys.down')).out, 'Down n\n');
  const text = (await vouch(dir, 'config', 'list')).out;
  assert.match(text, /^keys\.down +Down n$/m);
  assert.match(text, /^# keys\.<action> rebinds one of: up down left right .* quit$/m);
  for (const [args, re] of [
    [['keys.up', 'n'], /keys\.up: "n" is already the key of down \(move down\)/],
    [['keys.jump', 'z'], /unknown key "keys\.jump"/],
    [['keys.quit', 'Ctrl-Q'], /keys\.quit: "Ctrl-Q" is not a key/],
  ] as const) {
    const r = await vouch(dir, 'config', 'set', ...args);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, re);
    assert.equal(r.err.trim().split('\n').length, 1, 'one line');
  }
  assert.deepEqual(JSON.parse(readFileSync(list.path, 'utf8')).keys, { down: 'Down n' }, 'a refused override is not stored');
  // The binary itself: exit 2 and the one line on stderr.
  const bin = await spawnCli(['config', 'set', 'keys.up', 'n'], { VOUCH_CONFIG_DIR: dir });
  assert.equal(bin.code, 2);
  assert.match(bin.stderr, /^vouch: error: config: keys\.up: "n" is already the key of down \(move down\); rebind that first\n$/);
  assert.equal((await vouch(dir, 'config', 'unset', 'keys.down')).code, 0);
  assert.equal((await vouch(dir, 'config', 'set', 'keys.up', 'Up n')).code, 0, 'n is free again once keys.down is unset');
  assert.equal((await vouch(dir, 'config', 'set', 'keys.up', 'Up j')).code, 2, 'j is the default of down');
});
