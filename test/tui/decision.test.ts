import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureModel, KEY, open, portFor, tick } from './fixture.js';

async function frameMatching(t: Awaited<ReturnType<typeof open>>, re: RegExp): Promise<string> {
  for (const t0 = Date.now(); !re.test(t.frame()) && Date.now() - t0 < 5000; ) await tick(20);
  return t.frame();
}

test('Overview shows the last decision of a reopened session (decision, reviewer, signed record), not "not decided yet"', async () => {
  const model = fixtureModel();
  const port = portFor(model);
  port.last = { decision: 'approved-with-exceptions', reviewer: 'rita', path: '/tmp/reviews/shop-2.4.0.rita.sigstore.json', verified: true };
  const t = await open({ model, port });
  const f = await frameMatching(t, /decision: approved/);
  assert.match(f, /decision: approved-with-exceptions by rita · signed record \/tmp\/reviews\/shop-2\.4\.0\.rita\.sigstore\.json/);
  assert.doesNotMatch(f, /not decided yet/);
  t.unmount();
  // A record that does not verify is not shown as a decision made.
  port.last = { ...port.last, verified: false };
  const u = await open({ model, port });
  assert.match(await frameMatching(u, /decision: approved/), /decision: approved-with-exceptions by rita · record does NOT verify/);
  u.unmount();
});

test('Overview: no decision yet says so; after Approve it shows the decision', async () => {
  const model = fixtureModel();
  const port = portFor(model);
  const t = await open({ model, port });
  assert.match(await frameMatching(t, /decision: not decided yet/), /decision: not decided yet \(screen 8 Approve\)/);
  // Rejected is never blocked: decide it on screen 8, then come back.
  let f = await t.press('8', KEY.down, KEY.down, KEY.enter);
  await t.type('not this one');
  await t.press(KEY.enter, KEY.enter);
  f = await t.press('1');
  f = await frameMatching(t, /decision: rejected/);
  assert.match(f, /decision: rejected by Rita Reviewer <rita@example\.com> \(not signed\)/);
  t.unmount();
});
