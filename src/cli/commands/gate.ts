import type { Command } from 'commander';
import { approvalCoverage } from '../../core/approval/covers.js';
import { gate, type GateImage, type GateReport } from '../../core/approval/gate.js';
import { loadApprovals } from '../../core/approval/verify.js';
import { loadTrustFile, TRUST_FILE_NAME } from '../../core/trust/trust-file.js';
import { sanitizeLine, terminalSafeJson } from '../../core/util/sanitize.js';
import { table } from '../format/text.js';
import { collect } from '../options.js';
import type { CliIo } from '../io.js';

export interface GateFlags {
  approvals: string[];
  trust?: string;
  json?: boolean;
  allowEmpty?: boolean;
}

const s = (v: string | null | undefined): string => (v === null || v === undefined ? '-' : sanitizeLine(v));

/** The verdict of one image as the text view shows it. */
export function coverageText(i: Pick<GateImage, 'ok' | 'decision' | 'reviewers' | 'reasons'>): string {
  if (i.ok) return `ok: ${s(i.decision)} by ${i.reviewers.map((r) => s(r.name)).join(', ') || '-'}`;
  return i.reasons.map((r) => r.code).join(', ') || 'not covered';
}

export function formatGate(r: GateReport): string {
  const out: string[] = [];
  if (r.images.length === 0) {
    const where = r.files.map(s).join(', ');
    return r.ok
      ? `gate: ok: no image was gated in ${where} (--allow-empty)`
      : `gate: FAIL: no image was gated in ${where}: nothing to approve is not a pass (an empty render?); pass --allow-empty to accept it`;
  }
  out.push(
    table(
      [{ header: 'WHERE', max: 50, priority: 2, min: 16 }, { header: 'WORKLOAD', max: 40, priority: 3, min: 12 }, { header: 'CONTAINER', max: 30, priority: 4, min: 10 }, { header: 'IMAGE', max: 80, min: 20 }, { header: 'RESULT', max: 60, min: 16 }],
      r.images.map((i) => [`${s(i.file)}#${i.document}`, `${s(i.kind)}/${s(i.name)}`, s(i.container), s(i.image), coverageText(i)]),
    ),
  );
  const gaps = r.images.filter((i) => !i.ok);
  if (gaps.length) {
    out.push('', 'gaps');
    for (const i of gaps) for (const why of i.reasons) out.push(`  ${s(i.file)}#${i.document} ${s(i.path)}: ${why.code}: ${s(why.message)}`);
  }
  out.push('', gaps.length ? `gate: FAIL: ${gaps.length} of ${r.images.length} images not covered by a valid approval` : `gate: ok: all ${r.images.length} images pinned and approved`);
  return out.join('\n');
}

export async function runGate(files: string[], flags: GateFlags, io: CliIo): Promise<number> {
  const trust = await loadTrustFile(flags.trust ?? TRUST_FILE_NAME);
  const approvals = await loadApprovals(flags.approvals);
  const report = await gate(files, approvalCoverage(approvals, trust), { allowEmpty: flags.allowEmpty === true });
  for (const w of report.warnings) io.err(`vouch: warning: ${sanitizeLine(w)}\n`);
  if (flags.json) io.out(`${terminalSafeJson(report, 2)}\n`);
  else io.out(`${formatGate(report)}\n`);
  return report.ok ? 0 : 1;
}

export function registerGate(program: Command, io: CliIo): void {
  program
    .command('gate')
    .description('refuse a deployment unless every image in its Kubernetes manifests / compose files is pinned by digest and approved')
    .argument('<file...>', 'Kubernetes manifests (multi-document YAML, kind: List) or Docker Compose files')
    .requiredOption('--approvals <dir|file>', 'approval records: a file, or every *.sigstore.json in a directory (repeatable)', collect)
    .option('--trust <file>', `trust file naming the reviewers (default: ./${TRUST_FILE_NAME})`)
    .option('--json', 'print one JSON object')
    .option('--allow-empty', 'exit 0 when the files hold no image at all (by default that is a failure: an empty render gates nothing)')
    .action(async (files: string[], flags: GateFlags) => {
      io.setExitCode(await runGate(files, flags, io));
    });
}
