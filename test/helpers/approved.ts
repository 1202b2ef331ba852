/** Real signed approvals over chosen digests, for the gate / drift / attach tests. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signApprovalStatement } from '../../src/core/approval/sign.js';
import { buildApprovalStatement } from '../../src/core/approval/statement.js';
import type { Decision } from '../../src/core/review/types.js';
import { fakeSession, type Reviewers } from './approval.js';
import { NO_SIGNERS } from './approval.js';

/** `who` signs an approval naming exactly `images`; written as DIR/FILE.sigstore.json. Returns the path. */
export async function writeApproval(
  rv: Reviewers,
  who: string,
  images: Array<{ name: string; digest: string }>,
  dir: string,
  file: string,
  decision: Decision = 'approved',
): Promise<string> {
  const session = fakeSession();
  const template = session.images[0]!;
  session.images = images.map((im, i) => ({ ...template, key: `img${i}`, name: im.name, reference: `docker://${im.name}@${im.digest}`, pinned: `docker://${im.name}@${im.digest}`, digest: im.digest, index: null }));
  const statement = buildApprovalStatement(session, decision, 'reviewed', { name: who, identity: who }, { signers: NO_SIGNERS });
  const bundle = await signApprovalStatement(statement, { kind: 'key', keyPath: rv.keys[who]!.key, passphrase: rv.passphrase });
  const path = join(dir, `${file}.sigstore.json`);
  await writeFile(path, JSON.stringify(bundle));
  return path;
}
