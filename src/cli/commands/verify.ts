/**
 * `vouch verify APPROVAL... --image NAME@sha256:HEX --trust FILE [--json]`:
 * exit 0 when the approvals admit the image, 1 when they do not, 2 on bad input.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadApprovals, verifyApprovalsForImage } from '../../core/approval/verify.js';
import { VouchError } from '../../core/errors.js';
import { loadTrustFile, TRUST_FILE_NAME } from '../../core/trust/trust-file.js';
import { sanitizeLine as s, terminalSafeJson } from '../../core/util/sanitize.js';
import type { CliIo } from '../io.js';

export function parseImageArg(v: string): { name: string; digest: string } {
  const at = v.lastIndexOf('@');
  const name = at > 0 ? v.slice(0, at) : '';
  const digest = at > 0 ? v.slice(at + 1) : '';
  if (!name || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw new VouchError('USAGE', `--image: ${JSON.stringify(s(v))}: expected NAME@sha256:<64 lowercase hex>`);
  return { name: name.replace(/^docker:\/\//, ''), digest };
}

export async function runVerify(files: string[], flags: { image: string; trust?: string; json?: boolean }, io: CliIo): Promise<number> {
  const image = parseImageArg(flags.image);
  const trustPath = flags.trust ?? (existsSync(TRUST_FILE_NAME) ? TRUST_FILE_NAME : undefined);
  if (!trustPath) throw new VouchError('USAGE', `verify: give --trust FILE (no ./${TRUST_FILE_NAME} here)`);
  const trust = await loadTrustFile(trustPath);
  const approvals = await loadApprovals(files);
  const v = await verifyApprovalsForImage(approvals, image, trust);
  if (flags.json) {
    const { ok, image: im, decision, release, reviewers, reasons } = v;
    io.out(`${terminalSafeJson({ ok, image: im, decision, release, reviewers, reasons }, 2)}\n`);
  } else {
    io.out(`image     ${s(v.image)}\n`);
    if (v.release) io.out(`release   ${s(v.release.name)} ${s(v.release.version)}: ${v.decision}\n`);
    for (const r of v.reviewers) io.out(`reviewer  ${s(r.name)} (${s(r.identity)})\n`);
    for (const r of v.reasons) io.out(`refused   ${r.code}: ${s(r.message)}\n`);
    io.out(v.ok ? 'OK: approved by enough trusted reviewers\n' : 'REFUSED\n');
  }
  return v.ok ? 0 : 1;
}

export function registerVerify(program: Command, io: CliIo): void {
  program
    .command('verify')
    .description('verify approval records for an image digest against the trust file (reviewers, require)')
    .argument('<approval...>', 'approval files (*.sigstore.json) or folders of them')
    .requiredOption('--image <name@digest>', 'the image, NAME@sha256:HEX (the digest decides)')
    .option('--trust <file>', `trust file (default: ./${TRUST_FILE_NAME})`)
    .option('--json', 'print {ok, image, decision, release, reviewers, reasons}')
    .action(async (files: string[], flags: { image: string; trust?: string; json?: boolean }) => io.setExitCode(await runVerify(files, flags, io)));
}
