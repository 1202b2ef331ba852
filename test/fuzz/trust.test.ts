/** Fuzz targets for the trust and approval parsers (see test/fuzz/harness.ts and test/fuzz/targets/trust-*.ts). */
import { fuzzTest } from './harness.js';
import { bundleTarget, signedBytesTarget } from './targets/trust-bundle.js';
import { checkpointTarget, dsseTarget, inTotoTarget, simpleSigningTarget } from './targets/trust-envelopes.js';
import { certificateTarget, publicKeyTarget, trustedRootTarget } from './targets/trust-keys.js';
import { policyFileTarget, releaseFileTarget, trustFileTarget } from './targets/trust-files.js';
import { approvalRecordTarget, attachBundleTarget, sessionTarget, workloadsTarget } from './targets/trust-approval.js';

for (const t of [
  bundleTarget,
  signedBytesTarget,
  simpleSigningTarget,
  dsseTarget,
  inTotoTarget,
  checkpointTarget,
  publicKeyTarget,
  certificateTarget,
  trustedRootTarget,
  trustFileTarget,
  policyFileTarget,
  releaseFileTarget,
  sessionTarget,
  approvalRecordTarget,
  attachBundleTarget,
  workloadsTarget,
])
  fuzzTest(t);
