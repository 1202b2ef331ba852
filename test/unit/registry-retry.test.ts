/** The registry retry policy's knobs (VOUCH_REGISTRY_RETRY) and the stall timeout, without a registry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_RETRY, fetchWithStallTimeout, retryPolicyFromEnv, StallError } from '../../src/core/sources/registry/http.js';

test('VOUCH_REGISTRY_RETRY: milliseconds and a count; anything else is a USAGE error naming the part', () => {
  assert.deepEqual(retryPolicyFromEnv({}), {});
  assert.deepEqual(retryPolicyFromEnv({ VOUCH_REGISTRY_RETRY: 'attempts=3, base=10,max=80,total=2000,stall=250,retry-after=5000' }), {
    attempts: 3,
    baseDelayMs: 10,
    maxDelayMs: 80,
    totalMs: 2000,
    stallMs: 250,
    maxRetryAfterMs: 5000,
  });
  for (const bad of ['attempts=0', 'total=-1', 'tries=3', 'stall=1s', 'base']) {
    assert.throws(() => retryPolicyFromEnv({ VOUCH_REGISTRY_RETRY: bad }), (e: { code?: string; message?: string }) => e.code === 'USAGE' && /^VOUCH_REGISTRY_RETRY: /.test(e.message ?? ''), bad);
  }
  // A known key with a unit says what the number must be, not that the key is unknown.
  assert.throws(() => retryPolicyFromEnv({ VOUCH_REGISTRY_RETRY: 'total=5s' }), /"total=5s": total takes a whole number of milliseconds, no unit/);
  assert.throws(() => retryPolicyFromEnv({ VOUCH_REGISTRY_RETRY: 'tries=3' }), /"tries=3" is not one of attempts=N/);
  // The defaults are the documented ones: five tries within a minute, 30 s of silence.
  assert.equal(DEFAULT_RETRY.attempts, 5);
  assert.equal(DEFAULT_RETRY.totalMs, 60_000);
  assert.equal(DEFAULT_RETRY.stallMs, 30_000);
  // A trickling blob: at least 10 KiB/s over each 30 s spent waiting (minrate=0 turns it off).
  assert.deepEqual([DEFAULT_RETRY.minRate, DEFAULT_RETRY.rateWindowMs], [10 * 1024, 30_000]);
  assert.deepEqual(retryPolicyFromEnv({ VOUCH_REGISTRY_RETRY: 'minrate=0,ratewindow=500' }), { minRate: 0, rateWindowMs: 500 });
  assert.throws(() => retryPolicyFromEnv({ VOUCH_REGISTRY_RETRY: 'ratewindow=0' }), /ratewindow must be at least 1/);
});

test('stall timeout: no headers, or a body that stops, is a StallError; a slow consumer is not', async (t) => {
  const server = createServer((req, res) => {
    if (req.url === '/silent') return; // never answers
    res.writeHead(200, { 'content-length': '6' });
    res.write('abc');
    if (req.url === '/half') return; // then nothing
    setTimeout(() => res.end('def'), 10);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Timeouts wide enough that a loaded machine still gets the headers in time where they are sent.
  await assert.rejects(fetchWithStallTimeout(new URL(`${base}/silent`), {}, 300), (e: unknown) => e instanceof StallError && /no response within 0\.3 s/.test(e.message));
  // A try that starts as the retry budget runs out gets a deadline of exactly one stall: nothing came, and that is
  // what it says (the deadline, set first, fired first and said "response not complete"). A deadline past the stall
  // time is still what stops a response that came and trickles.
  await assert.rejects(fetchWithStallTimeout(new URL(`${base}/silent`), {}, 300, undefined, { deadlineMs: 300 }), (e: unknown) => e instanceof StallError && /^no response within 0\.3 s$/.test(e.message));
  const trickled = await fetchWithStallTimeout(new URL(`${base}/half`), {}, 500, undefined, { deadlineMs: 300 });
  await assert.rejects(trickled.arrayBuffer(), (e: unknown) => e instanceof StallError && /^response not complete within 0\.3 s$/.test(e.message));
  const half = await fetchWithStallTimeout(new URL(`${base}/half`), {}, 500);
  await assert.rejects(half.arrayBuffer(), (e: unknown) => e instanceof StallError && /no data within 0\.5 s/.test(e.message));
  // The timer runs only while a read waits on the server: a consumer that pauses longer than the stall time is fine.
  const whole = await fetchWithStallTimeout(new URL(`${base}/whole`), {}, 300);
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(Buffer.from(await whole.arrayBuffer()).toString(), 'abcdef');
});
