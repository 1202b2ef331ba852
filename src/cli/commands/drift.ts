import type { Command } from 'commander';
import { approvalCoverage } from '../../core/approval/covers.js';
import { drift, type DriftReport } from '../../core/approval/drift.js';
import { loadApprovals } from '../../core/approval/verify.js';
import { daemonEndpoint, dockerClient } from '../../core/sources/daemon.js';
import { loadTrustFile, TRUST_FILE_NAME } from '../../core/trust/trust-file.js';
import { sanitizeLine, terminalSafeJson } from '../../core/util/sanitize.js';
import { table, WHOLE } from '../format/text.js';
import { collect } from '../options.js';
import type { CliIo } from '../io.js';
import { coverageText } from './gate.js';

export interface DriftFlags {
  approvals: string[];
  trust?: string;
  json?: boolean;
}

const s = (v: string | null | undefined): string => (v === null || v === undefined ? '-' : sanitizeLine(v));

export function formatDrift(r: DriftReport): string {
  const out: string[] = [`docker host  ${s(r.host)}`, ''];
  if (r.containers.length === 0) return [...out, 'no running containers'].join('\n');
  out.push(
    table(
      [{ header: 'CONTAINER', max: 40, priority: 2, min: 12 }, { header: 'IMAGE', max: 60, min: 20 }, { header: 'DIGEST', max: 19, priority: 3, min: WHOLE }, { header: 'RESULT', max: 60, min: 16 }],
      r.containers.map((c) => [s(c.name), s(c.image), `${s(c.digest)}`, coverageText(c)]),
    ),
  );
  const drifted = r.containers.filter((c) => !c.ok);
  if (drifted.length) {
    out.push('', 'drift');
    for (const c of drifted) {
      out.push(`  ${s(c.name)} (${s(c.image)} ${s(c.digest)}${c.digestSource === 'image-id' ? ', image ID' : ''})`);
      for (const why of c.reasons) out.push(`    ${why.code}: ${s(why.message)}`);
      if (c.caveat) out.push(`    note: ${s(c.caveat)}`);
    }
  }
  out.push('', drifted.length ? `drift: ${drifted.length} of ${r.containers.length} running containers not covered by a valid approval` : `drift: none: all ${r.containers.length} running containers approved`);
  return out.join('\n');
}

export async function runDrift(flags: DriftFlags, io: CliIo): Promise<number> {
  const trust = await loadTrustFile(flags.trust ?? TRUST_FILE_NAME);
  const approvals = await loadApprovals(flags.approvals);
  const docker = await dockerClient();
  const report = await drift(docker, approvalCoverage(approvals, trust), await daemonEndpoint(docker));
  if (flags.json) io.out(`${terminalSafeJson(report, 2)}\n`);
  else io.out(`${formatDrift(report)}\n`);
  return report.ok ? 0 : 1;
}

export function registerDrift(program: Command, io: CliIo): void {
  program
    .command('drift')
    .description('list running containers on the Docker host (DOCKER_HOST) whose image no valid approval covers')
    .requiredOption('--approvals <dir|file>', 'approval records: a file, or every *.sigstore.json in a directory (repeatable)', collect)
    .option('--trust <file>', `trust file naming the reviewers (default: ./${TRUST_FILE_NAME})`)
    .option('--json', 'print one JSON object')
    .action(async (flags: DriftFlags) => {
      io.setExitCode(await runDrift(flags, io));
    });
}
