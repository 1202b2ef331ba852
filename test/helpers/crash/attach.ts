/**
 * Crash child: signs a new approval of one image and `vouch attach`es it to
 * the registry, over and over; `ack REFERRER ATT_LAYER` once both places list
 * it. Args: DIR REF DIGEST KEY. VOUCH_KEY_PASSWORD from the env.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { attachApproval, cosignAttestationLayer, readApprovalBundle } from '../../../src/core/approval/attach.js';
import { signApprovalStatement } from '../../../src/core/approval/sign.js';
import { buildApprovalStatement } from '../../../src/core/approval/statement.js';
import { digestOf } from '../../../src/core/oci/digest.js';
import { fakeSession } from '../approval.js';
import { childLoop } from './child.js';
import { NO_SIGNERS } from '../approval.js';

const [dir, ref, digest, key] = [process.argv[2]!, process.argv[3]!, process.argv[4]!, process.argv[5]!];
const session = fakeSession();
const name = ref.replace(/^docker:\/\//, '').replace(/[@:][^/]*$/, '');
session.images = [{ ...session.images[0]!, name, reference: ref, pinned: `docker://${name}@${digest}`, digest, index: null }];
await childLoop(async (n) => {
  const statement = buildApprovalStatement(session, 'approved', `op ${n}`, { name: 'alice', identity: 'alice' }, { signers: NO_SIGNERS });
  const bundle = await signApprovalStatement(statement, { kind: 'key', keyPath: key, passphrase: process.env['VOUCH_KEY_PASSWORD']! });
  const file = join(dir, `op-${n}.sigstore.json`);
  await writeFile(file, `${JSON.stringify(bundle)}\n`);
  const r = await attachApproval(file, ref);
  return `${r.referrer.digest} ${digestOf(cosignAttestationLayer(await readApprovalBundle(file)).bytes)}`;
});
