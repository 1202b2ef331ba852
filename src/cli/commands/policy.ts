import type { Command } from 'commander';
import { stringify } from 'yaml';
import { kyvernoPolicy, policyControllerPolicy, policyRequirements, type PolicyOptions } from '../../core/approval/policy.js';
import { VouchError } from '../../core/errors.js';
import { loadTrustFile, TRUST_FILE_NAME } from '../../core/trust/trust-file.js';
import { collect } from '../options.js';
import type { CliIo } from '../io.js';
import { terminalSafeJson } from '../../core/util/sanitize.js';

export interface PolicyFlags {
  trust?: string;
  json?: boolean;
  name?: string;
  image?: string[];
  fulcioUrl?: string;
  rekorUrl?: string;
}

const KINDS = ['kyverno', 'policy-controller'] as const;

export async function runPolicy(kind: string, flags: PolicyFlags, io: CliIo): Promise<number> {
  if (!(KINDS as readonly string[]).includes(kind)) throw new VouchError('USAGE', `policy: unknown admission controller ${JSON.stringify(kind)} (use ${KINDS.join(' or ')})`);
  const req = await policyRequirements(await loadTrustFile(flags.trust ?? TRUST_FILE_NAME));
  const opts: PolicyOptions = {
    ...(flags.name ? { name: flags.name } : {}),
    ...(flags.image?.length ? { images: flags.image } : {}),
    ...(flags.fulcioUrl ? { fulcioUrl: flags.fulcioUrl } : {}),
    ...(flags.rekorUrl ? { rekorUrl: flags.rekorUrl } : {}),
  };
  const doc = kind === 'kyverno' ? kyvernoPolicy(req, opts) : policyControllerPolicy(req, opts);
  io.out(flags.json ? `${terminalSafeJson(doc, 2)}\n` : stringify(doc, { lineWidth: 0 }));
  return 0;
}

export function registerPolicy(program: Command, io: CliIo): void {
  program
    .command('policy')
    .description('print an admission policy (Kyverno ClusterPolicy or policy-controller ClusterImagePolicy) that admits only approved images')
    .argument('<controller>', 'kyverno | policy-controller')
    .option('--trust <file>', `trust file naming the reviewers and require (default: ./${TRUST_FILE_NAME})`)
    .option('--name <name>', 'metadata.name of the policy (default: vouch-require-approval)')
    .option('--image <glob>', "images the policy applies to (repeatable; default: all — Kyverno '*', policy-controller '**')", collect)
    .option('--fulcio-url <url>', 'Fulcio of keyless reviewers (policy-controller; default: public-good)')
    .option('--rekor-url <url>', 'Rekor the approvals are logged in (default: public-good)')
    .option('--json', 'print JSON instead of YAML')
    .action(async (controller: string, flags: PolicyFlags) => {
      io.setExitCode(await runPolicy(controller, flags, io));
    });
}
