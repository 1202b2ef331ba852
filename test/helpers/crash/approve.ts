/**
 * Crash child: `vouch approve --decision rejected` on one session in a loop
 * (the real command: recheck on the pinned image, sign, write beside the
 * target, verify, rename); `ack N` once approval N replaced the file.
 * Args: SESSION KEY. VOUCH_KEY_PASSWORD and VOUCH_CACHE_DIR come from the env.
 */
import { runApprove } from '../../../src/cli/commands/approve.js';
import { childLoop } from './child.js';

const [session, key] = [process.argv[2]!, process.argv[3]!];
let err = '';
const io = { out: () => {}, err: (s: string) => void (err += s), setExitCode: () => {} };
await childLoop(async (n) => {
  const code = await runApprove({ session, decision: 'rejected', key, rationale: `op ${n}`, json: true }, io);
  if (code !== 0) throw new Error(`approve exited ${code}: ${err}`);
  return String(n);
});
