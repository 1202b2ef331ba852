import type { Command } from 'commander';
import { attachApproval, type AttachReport } from '../../core/approval/attach.js';
import { sanitizeLine, terminalSafeJson } from '../../core/util/sanitize.js';
import { collect } from '../options.js';
import type { CliIo } from '../io.js';

export interface AttachFlags {
  to: string;
  json?: boolean;
  insecureRegistry?: string[];
}

export function formatAttach(r: AttachReport): string {
  const s = sanitizeLine;
  return [
    `image      ${s(r.image.reference)}`,
    `referrer   ${r.referrer.digest} (${r.referrer.via}${r.referrer.tag ? `, tag ${r.referrer.tag}` : ''})${r.referrer.alreadyListed ? ' already attached' : ''}`,
    `cosign     ${r.cosign.tag} → ${r.cosign.digest} (${r.cosign.layers} attestation${r.cosign.layers === 1 ? '' : 's'})${r.cosign.alreadyPresent ? ' already attached' : ''}`,
  ].join('\n');
}

export async function runAttach(approval: string, flags: AttachFlags, io: CliIo): Promise<number> {
  const report = await attachApproval(approval, flags.to, flags.insecureRegistry?.length ? { insecureRegistries: flags.insecureRegistry } : {});
  if (flags.json) io.out(`${terminalSafeJson(report, 2)}\n`);
  else io.out(`${formatAttach(report)}\n`);
  return 0;
}

export function registerAttach(program: Command, io: CliIo): void {
  program
    .command('attach')
    .description("push an approval to the image's repository: as an OCI 1.1 referrer and in cosign's .att layout")
    .argument('<approval>', 'the approval record (*.sigstore.json)')
    .requiredOption('--to <ref>', 'the image: [docker://]REGISTRY/REPO[:TAG|@sha256:…]; the approval must name its digest')
    .option('--json', 'print one JSON object')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable); loopback is always allowed', collect)
    .action(async (approval: string, flags: AttachFlags) => {
      io.setExitCode(await runAttach(approval, flags, io));
    });
}
