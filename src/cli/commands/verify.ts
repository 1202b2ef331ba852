/**
 * `vouch verify APPROVAL... --image NAME@sha256:HEX --trust FILE [--json]`:
 * exit 0 when the approvals admit the image, 1 when they do not, 2 on bad input.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadApprovals, verifyApprovalsForImage, type LoadedApproval } from '../../core/approval/verify.js';
import { VouchError } from '../../core/errors.js';
import { loadTrustFile, TRUST_FILE_NAME, type TrustFile } from '../../core/trust/trust-file.js';
import { sanitizeLine as s, terminalSafeJson } from '../../core/util/sanitize.js';
import type { CliIo } from '../io.js';

export function parseImageArg(v: string): { name: string; digest: string } {
  const at = v.lastIndexOf('@');
  const name = at > 0 ? v.slice(0, at) : '';
  const digest = at > 0 ? v.slice(at + 1) : '';
  if (!name || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw new VouchError('USAGE', `--image: ${JSON.stringify(s(v))}: expected NAME@sha256:<64 lowercase hex>`);
  return { name: name.replace(/^docker:\/\//, ''), digest };
}

export interface VerifyNote {
  file: string;
  code: string;
  message: string;
}

/**
 * The approvals read but not counted, for the reader who wonders why a rejection or a record is not
 * mentioned: a record about other images (OTHER_IMAGE), and, when the image is admitted (its refusal
 * reasons are then not reported), each record naming it that does not count by itself (an untrusted
 * signer, an expired record, …, in the verifier's own words). A counted record is no note.
 */
export async function uncountedNotes(approvals: LoadedApproval[], image: { name: string; digest: string }, trust: TrustFile, admitted: boolean): Promise<VerifyNote[]> {
  const hex = image.digest.replace(/^sha256:/, '');
  const notes: VerifyNote[] = [];
  // Each record judged alone (one reviewer enough): what keeps it from counting, if anything.
  const alone: TrustFile = { ...trust, require: { ...trust.require, approvals: 1 } };
  for (const a of approvals) {
    const subjects = a.statement.subject;
    if (!subjects.some((x) => x.digest?.sha256?.toLowerCase() === hex)) {
      const names = subjects.map((x) => `${x.name}@sha256:${x.digest?.sha256 ?? '?'}`);
      notes.push({ file: a.path, code: 'OTHER_IMAGE', message: s(`about ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}, not ${image.digest}`) });
      continue;
    }
    if (!admitted) continue; // its reasons are the refusal's own
    const one = await verifyApprovalsForImage([a], image, alone);
    for (const r of one.reasons) {
      if (r.code === 'NOT_ENOUGH_REVIEWERS') continue;
      notes.push({ file: a.path, code: r.code, message: r.message.startsWith(`${a.path}: `) ? r.message.slice(a.path.length + 2) : r.message });
    }
  }
  return notes;
}

export async function runVerify(files: string[], flags: { image: string; trust?: string; json?: boolean }, io: CliIo): Promise<number> {
  const image = parseImageArg(flags.image);
  const trustPath = flags.trust ?? (existsSync(TRUST_FILE_NAME) ? TRUST_FILE_NAME : undefined);
  if (!trustPath) throw new VouchError('USAGE', `verify: give --trust FILE (no ./${TRUST_FILE_NAME} here)`);
  const trust = await loadTrustFile(trustPath);
  const approvals = await loadApprovals(files);
  const v = await verifyApprovalsForImage(approvals, image, trust);
  const notes = await uncountedNotes(approvals, image, trust, v.ok);
  if (flags.json) {
    const { ok, image: im, decision, release, reviewers, reasons } = v;
    io.out(`${terminalSafeJson({ ok, image: im, decision, release, reviewers, reasons, notes }, 2)}\n`);
  } else {
    io.out(`image     ${s(v.image)}\n`);
    if (v.release) io.out(`release   ${s(v.release.name)} ${s(v.release.version)}: ${v.decision}\n`);
    for (const r of v.reviewers) io.out(`reviewer  ${s(r.name)} (${s(r.identity)})\n`);
    for (const r of v.reasons) io.out(`refused   ${r.code}: ${s(r.message)}\n`);
    for (const n of notes) io.out(`note      ${s(n.file)}: not counted: ${n.code}: ${s(n.message)}\n`);
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
    .option('--json', 'print {ok, image, decision, release, reviewers, reasons, notes}')
    .action(async (files: string[], flags: { image: string; trust?: string; json?: boolean }) => io.setExitCode(await runVerify(files, flags, io)));
}
