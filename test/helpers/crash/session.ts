/** Crash child: annotates one session in a tight loop (`ack ID N`: annotation ID, text "op N", is saved). Args: SESSION. */
import { addAnnotations } from '../../../src/core/review/annotations.js';
import { SessionWriter } from '../../../src/core/review/store.js';
import { childLoop } from './child.js';

let w: SessionWriter | undefined;
await childLoop(async (n) => {
  // Opening (taking the lock, over a dead child's) is part of what may be killed.
  w ??= await SessionWriter.open(process.argv[2]!);
  const [a] = await w.update((s) => addAnnotations(s, [{ kind: 'image', image: 'api' }], { disposition: 'note', text: `op ${n}`, author: 'loop' }));
  return `${a!.id} ${n}`;
});
