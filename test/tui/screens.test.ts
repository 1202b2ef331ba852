import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEYMAP } from '../../src/tui/keys.js';
import { EVIL_FILE, KEY, open, tick } from './fixture.js';

/** The line of the frame the cursor is on (the gutter shows ›). */
const cursorLine = (frame: string): string => frame.split('\n').find((l) => l.includes('›')) ?? '';

test('Overview: release, images with digests, traceability, checks by step, what is left', async () => {
  const t = await open();
  const f = t.frame();
  assert.match(f, /Release shop 2\.4\.0/);
  assert.match(f, /api +sha256:7{64} +signed ✔/);
  assert.match(f, /worker +sha256:3{64} +unsigned ✘/);
  assert.match(f, /repository +https:\/\/github\.com\/acme\/shop +✘ sources disagree/);
  assert.match(f, /Least privilege +2 failing/);
  assert.match(f, /6 failing results without a disposition/);
  t.unmount();
});

test('Tab, Shift-Tab, number keys and [ ] move between screens and images', async () => {
  const t = await open();
  assert.match(await t.press(KEY.tab), /MERGED FILESYSTEM/);
  assert.match(await t.press(KEY.tab), /NAME \(sort: name/);
  assert.match(await t.press(KEY.shiftTab), /MERGED FILESYSTEM/);
  assert.match(await t.press('5'), /signature #1 cosign +✔ verified/);
  const w = await t.press(']');
  assert.match(w, /worker sha256:3{64} +✘ no trusted signature verifies/);
  assert.match(w, /signatures: none attached +✘ UNSIGNED/);
  assert.match(await t.press('['), /api sha256:7{64}/);
  assert.match(await t.press('8'), /Decision \(↑\/↓, Enter\)/);
  t.unmount();
});

test('? shows every key of the key table; Esc closes it', async () => {
  const t = await open({ height: 40 });
  const f = await t.press('?');
  for (const b of KEYMAP) assert.ok(f.includes(b.help), `help lists "${b.help}"`);
  assert.doesNotMatch(await t.press(KEY.esc), /Keys \(Esc or \? closes\)/);
  t.unmount();
});

test('Layers: tree of the merged filesystem, collapse/expand, layer view with removals, filter', async () => {
  const t = await open();
  let f = await t.press('2');
  assert.match(f, /merged filesystem/);
  assert.match(f, /▾ app/);
  assert.match(f, /-rwsr-xr-x .* su/);
  // Into the tree, onto /app, collapse it: its files disappear.
  f = await t.press('l', 'g', KEY.enter);
  assert.match(cursorLine(f), /▸ app/);
  assert.doesNotMatch(f, /server\.js/);
  f = await t.press('l');
  assert.match(f, /server\.js/);
  // Layer 1 on its own: the whiteout of /app/.env is a removal, /etc/passwd a modification.
  f = await t.press(KEY.esc, 'j', 'j');
  assert.match(f, /LAYER 1/);
  assert.match(f, /- w-+ +\S* +▾? *\.env|- w.* \.env/);
  assert.match(f, /~ -rw-r--r-- .*passwd/);
  assert.match(f, /\+ -rw-r--r-- .*new\.js/);
  // Filter the merged tree live.
  f = await t.press('m', 'l', '/');
  f = await t.type('server');
  assert.match(f, /server\.js/);
  assert.doesNotMatch(f, /B +passwd/);
  f = await t.press(KEY.enter);
  assert.match(f, /filter: server/);
  f = await t.press(KEY.esc, KEY.esc);
  assert.match(f, /B +passwd/);
  t.unmount();
});

test('Layers: the wasted-space list and the efficiency', async () => {
  const t = await open();
  const f = await t.press('2');
  assert.match(f, /WASTED 200 B · efficiency 90\.0%/);
  assert.match(f, /200 B ×2 \/etc\/passwd/);
  t.unmount();
});

test('Packages: attached-SBOM mismatches marked, detail pane, filter, sort', async () => {
  const t = await open();
  let f = await t.press('3');
  assert.match(f, /S ghost +0\.0\.1/);
  assert.match(f, /V lodash +4\.17\.20 \(SBOM 4\.17\.21\)/);
  assert.match(f, /mismatches: 2/);
  f = await t.press('/');
  f = await t.type('lod');
  assert.match(f, /1 of 5 packages/);
  f = await t.press(KEY.enter);
  assert.match(f, /purl +pkg:npm\/lodash@4\.17\.20/);
  assert.match(f, /locations \/usr\/lib\/lodash \(layer 1\)/);
  assert.match(f, /the attached SBOM lists another version/);
  f = await t.press(KEY.esc, 's');
  assert.match(f, /sort: type/);
  assert.match(cursorLine(f), /libc6/); // deb sorts before npm
  f = await t.press('s', 's');
  assert.match(f, /sort: mismatch/);
  assert.match(cursorLine(f), /ghost|lodash/);
  t.unmount();
});

test('Diff: downgrades and upgrades marked, licence, config and layer changes; no baseline said plainly', async () => {
  const t = await open();
  let f = await t.press('4');
  assert.match(f, /↓ npm +lodash +4\.17\.21 → 4\.17\.20 +DOWNGRADE/);
  assert.match(f, /↑ deb +libc6 +2\.35 → 2\.36/);
  assert.match(f, /\+ npm +express 4\.18\.2/);
  assert.match(f, /- npm +left-pad 1\.3\.0/);
  assert.match(f, /~ deb +libc6 +GPL-2\.0 → LGPL-2\.1/);
  assert.match(f, /~ User app → \(root\)/);
  assert.match(f, /Layers: 0 shared, 1 added, 0 removed/);
  f = await t.press('/');
  f = await t.type('lodash');
  assert.doesNotMatch(f, /express/);
  assert.match(f, /lodash/);
  f = await t.press(KEY.enter, ']');
  assert.match(f, /No baseline/);
  t.unmount();
});

test('Chain: signatures → signer → CA → root, log entry, provenance, traceability, reason codes', async () => {
  const t = await open({ height: 40 });
  const f = await t.press('5');
  assert.match(f, /✔ a trusted signature verifies/);
  assert.match(f, /signer +key abcdef0123456789 — trusted as release-ci/);
  assert.match(f, /log +index 42 at 2024-05-01T12:00:00Z/);
  assert.match(f, /signature #2 bundle +✘ UNTRUSTED_SIGNER/);
  assert.match(f, /CA +certificate issued by the Fulcio CA/);
  assert.match(f, /root +demo root/);
  assert.match(f, /attestation sha256:8{12} https:\/\/slsa\.dev\/provenance\/v1 +✔ verified/);
  assert.match(f, /repository https:\/\/github\.com\/acme\/other/);
  assert.match(f, /traceability ✘ SOURCES DISAGREE/);
  t.unmount();
});

test('Checks: grouped by step; Enter jumps to the file, the deleted file, the package and the signature', async () => {
  const t = await open({ height: 40 });
  let f = await t.press('6');
  assert.match(f, /Provenance — 1 failing/);
  assert.match(f, /Least privilege — 2 failing/);
  assert.doesNotMatch(f, /VCH-TR-001/);
  assert.match(await t.press('p'), /VCH-TR-001/);
  await t.press('p');
  // Rows: Provenance header, PV-002, Least privilege header, LP-002, SC-003, Dependency header, DC-003, ...
  f = await t.press('g', 'j', 'j', 'j', KEY.enter);
  assert.match(f, /MERGED FILESYSTEM/);
  assert.match(cursorLine(f), /su$/);
  f = await t.press('6', 'j', KEY.enter);
  assert.match(f, /LAYER 0/, 'a file deleted later is shown in the layer that still has it');
  assert.match(cursorLine(f), /\.env/);
  f = await t.press('6', 'j', 'j', KEY.enter);
  assert.match(f, /NAME \(sort/);
  assert.match(cursorLine(f), /lodash/);
  f = await t.press('6', 'g', 'j', KEY.enter);
  assert.match(cursorLine(f), /signature #2/);
  t.unmount();
});

test('annotate a file in Layers and a package in Packages; both show in Findings and in the port', async () => {
  const t = await open();
  let f = await t.press('2', 'l', 'G', 'a');
  assert.match(f, /Annotate/);
  assert.match(f, /subject: file \/usr\/bin\/su/);
  f = await t.press(KEY.down, KEY.enter); // accepted-risk
  assert.match(f, /disposition: accepted-risk/);
  await t.type('needed by the login flow');
  f = await t.press(KEY.enter);
  assert.match(f, /annotated: file \/usr\/bin\/su/);
  await t.press('3', 'a', KEY.enter);
  await t.type('ship it not');
  await t.press(KEY.enter);
  const saved = await t.port.load();
  assert.equal(saved.length, 2);
  assert.deepEqual(saved[0]!.subject, { image: 'api', kind: 'path', value: '/usr/bin/su' });
  assert.equal(saved[0]!.disposition, 'accepted-risk');
  assert.equal(saved[1]!.subject.kind, 'package');
  assert.equal(saved[1]!.disposition, 'must-fix');
  f = await t.press('7');
  assert.match(f, /accepted-risk +path \/usr\/bin\/su/);
  assert.match(f, /must-fix +package pkg:/);
  t.unmount();
});

test('Findings: annotate an automated finding, re-classify, edit, delete with history kept', async () => {
  const t = await open();
  let f = await t.press('7');
  assert.match(cursorLine(f), /open/);
  f = await t.press('a', KEY.enter);
  await t.type('fix before release');
  f = await t.press(KEY.enter);
  assert.match(cursorLine(f), /must-fix/);
  f = await t.press('c', 'y');
  assert.match(cursorLine(f), /accepted-risk/);
  f = await t.press('e', KEY.enter);
  f = await t.type(' (edited)');
  f = await t.press(KEY.enter);
  assert.match(f, /fix before release \(edited\)/);
  assert.match(f, /history: must-fix "fix before release" → accepted-risk "fix before release"/);
  f = await t.press('x', 'y');
  assert.match(f, /annotation deleted/);
  assert.match(f, /1 deleted \(history kept\)/);
  const [a] = await t.port.load();
  assert.equal(a!.deleted, true);
  assert.equal(a!.history.length, 3);
  t.unmount();
});

test('Approve: blockers listed and approval refused; allowed once the failures carry accepted-risk; rejected always', async () => {
  const t = await open({ height: 40 });
  let f = await t.press('8');
  // The blockers are computed after the screen mounts (a promise): on a loaded machine the frame can come first.
  for (let i = 0; i < 100 && /computing…/.test(f); i++) f = await new Promise<string>((r) => setTimeout(() => r(t.frame()), 50));
  assert.match(f, /approved +\d+ blockers/);
  assert.match(f, /rejected +allowed/);
  assert.match(f, /✘ VCH-LP-002 high on api \(\/usr\/bin\/su\)/); // the core's approvalBlockers wording
  f = await t.press(KEY.enter);
  assert.match(f, /Decision: approved/);
  f = await t.type('looks fine');
  f = await t.press(KEY.enter);
  assert.match(f, /Blocked/);
  f = await t.press(KEY.enter);
  assert.match(f, /✘ refused: 4 blockers/);
  // Accept the risk of every failing result at or above high, then approve with exceptions.
  await t.press('7');
  for (let i = 0; i < 6; i++) {
    const row = cursorLine(t.frame());
    if (/high/.test(row)) {
      await t.press('a', KEY.down, KEY.enter);
      await t.type('accepted');
      await t.press(KEY.enter);
    }
    await t.press('j');
  }
  f = await t.press('8');
  // The blockers are computed after the screen mounts (a promise): on a loaded machine the frame can come first.
  for (let i = 0; i < 100 && /computing…/.test(f); i++) f = await new Promise<string>((r) => setTimeout(() => r(t.frame()), 50));
  assert.match(f, /approved-with-exceptions +allowed/);
  f = await t.press(KEY.enter); // back to the decision from the done screen
  f = await t.press(KEY.down, KEY.enter);
  assert.match(f, /Decision: approved-with-exceptions/);
  await t.type('risks accepted');
  f = await t.press(KEY.enter, KEY.enter);
  assert.match(f, /✔ decision "approved-with-exceptions" kept in memory only/);
  t.unmount();
});

test('q quits', async () => {
  const t = await open();
  await t.press('q');
  // Once Ink has exited, keys go nowhere: the Layers screen never appears.
  assert.doesNotMatch(await t.press('2'), /MERGED FILESYSTEM/);
});

test('safe rendering: ESC[2J, OSC 8 and OSC 52 from the image, SBOM and signatures are inert on every screen', async () => {
  const t = await open({ height: 40 });
  const frames: string[] = [t.frame()];
  for (const k of ['2', 'l', 'm', '3', '4', '5', '6', 'p', '7', '8']) frames.push(await t.press(k));
  frames.push(await t.press('2', 'l', '/'), await t.type('evil'));
  frames.push(await t.press(KEY.enter, '3', '/'), await t.type('evil'));
  const all = frames.join('\n');
  assert.ok(all.includes('evil\\x1b[2Jname\\x1b]52;c;'), 'the hostile file name is shown with its escapes neutralised');
  assert.ok(all.includes('evil\\x1b]8;;https://evil.example/\\x07click\\x1b]8;;\\x07pkg'), 'the hostile package name too');
  assert.ok(all.includes('mallory\\x1b[2J@evil'), 'the signer subject too');
  for (const [i, fr] of frames.entries()) {
    assert.ok(!fr.includes('\x1b]'), `frame ${i} carries no OSC sequence`);
    assert.ok(!fr.includes('\x1b[2J'), `frame ${i} does not clear the screen`);
    assert.ok(!fr.includes('\x07'), `frame ${i} carries no BEL`);
  }
  assert.ok(EVIL_FILE.includes('\x1b'));
  t.unmount();
});

test('80×24: every screen fits the width', async () => {
  const t = await open({ width: 80, height: 24 });
  for (const k of ['1', '2', '3', '4', '5', '6', '7', '8']) {
    const f = await t.press(k);
    const lines = f.split('\n');
    assert.ok(lines.length <= 24, `screen ${k}: ${lines.length} lines`);
    for (const l of lines) assert.ok([...l].length <= 80, `screen ${k}: line too wide: ${l}`);
  }
  t.unmount();
});

test('keys that arrive together (typed fast, or sent by a script) are taken one by one; text after / starts the filter', async () => {
  const t = await open();
  let f = await t.press('2');
  f = await t.press('l/server');
  assert.match(f, /server\.js/);
  assert.doesNotMatch(f, /B +passwd/);
  f = await t.press(KEY.enter);
  assert.match(f, /filter: server/);
  t.unmount();
});

test('keys that arrive together each see what the one before did: `Ga` annotates the row G moved to', async () => {
  const subjectOf = (frame: string): string => /subject: (.*)/.exec(frame)?.[1]?.trim() ?? '(no subject)';
  const one = await open();
  await one.press('2');
  await one.press('l');
  await one.press('G');
  const apart = subjectOf(await one.press('a'));
  one.unmount();
  const two = await open();
  await two.press('2');
  await two.press('l');
  await two.press('Ga');
  // Taken one per render: under load the form can come a few quiet intervals later.
  for (const t0 = Date.now(); !/subject:/.test(two.frame()) && Date.now() - t0 < 10_000; ) await tick(20);
  const together = subjectOf(two.frame());
  two.unmount();
  assert.notEqual(apart, '(no subject)');
  assert.match(apart, /^file \/.+/);
  assert.equal(together, apart);
});
