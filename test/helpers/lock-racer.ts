/**
 * One writer of the lock-race test (test/unit/review-lock-race.test.ts): for each round it waits for
 * the round's start file, then opens the session (taking a dead lock over, or refused), adds one
 * annotation and closes; it reports "ok" or the refusal in a result file the test reads.
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addAnnotations } from '../../src/core/review/annotations.js';
import { SessionWriter } from '../../src/core/review/store.js';

const [session, id, roundsArg, sync] = process.argv.slice(2) as [string, string, string, string];
for (let round = 0; round < Number(roundsArg); round++) {
  while (!existsSync(join(sync, `go-${round}`))) await sleep(2);
  let result = 'ok';
  try {
    const w = await SessionWriter.open(session);
    try {
      await w.update((s) => addAnnotations(s, [{ kind: 'image', image: 'api' }], { disposition: 'note', text: `r${round}-w${id}`, author: `w${id}` }));
    } finally {
      await w.close();
    }
  } catch (e) {
    result = `refused: ${(e as Error).message}`;
  }
  const out = join(sync, `res-${round}-${id}`);
  writeFileSync(`${out}.part`, result);
  renameSync(`${out}.part`, out);
}
