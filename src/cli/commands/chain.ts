import type { Command } from 'commander';
import { chainPasses, refreshTrustedRoot, verifyChain, type ChainOptions, type ChainReport } from '../../core/trust/chain.js';
import { sanitizeLine } from '../../core/util/sanitize.js';
import { collect, parsePlatform } from '../options.js';
import type { CliIo } from '../io.js';

export interface ChainFlags {
  trust?: string;
  json?: boolean;
  tufRefresh?: boolean;
  platform?: string;
  insecureRegistry?: string[];
}

const s = (v: string | null | undefined): string => (v === null || v === undefined ? '-' : sanitizeLine(v));

export function formatChain(r: ChainReport): string {
  const j = r.json;
  const out: string[] = [];
  out.push(`image        ${s(j.image.reference)}`);
  out.push(`digest       ${j.image.digest}`);
  out.push(`trust        ${s(r.trustSource)}; root: ${s(r.trustedRootSource)}`);
  out.push('');
  out.push(`signatures (${j.signatures.length})`);
  if (j.signatures.length === 0) out.push('  none found');
  j.signatures.forEach((x, i) => {
    const who = x.signer ? (x.signer.type === 'key' ? `key ${s(x.signer.keyId).slice(0, 16)}` : `${s(x.signer.subject)} (${s(x.signer.issuer)})`) : 'unknown signer';
    const as = x.signer?.trustedAs ? ` as ${s(x.signer.trustedAs)}` : '';
    const log = x.tlog ? `; log index ${x.tlog.logIndex} at ${s(x.tlog.integratedTime)}` : '';
    out.push(`  ${x.verified ? 'OK  ' : 'FAIL'} ${x.kind.padEnd(6)} ${who}${as}${log}`);
    if (!x.verified) out.push(`       ${x.reason}: ${s(r.signatureMessages[i])}`);
  });
  out.push('');
  out.push(`attestations (${j.attestations.length})`);
  if (j.attestations.length === 0) out.push('  none found');
  j.attestations.forEach((x, i) => {
    out.push(`  ${x.verified ? 'OK  ' : 'FAIL'} ${s(x.predicateType)} ${x.digest.slice(0, 19)}${x.signer?.trustedAs ? ` by ${s(x.signer.trustedAs)}` : ''}`);
    if (!x.verified) out.push(`       ${x.reason}: ${s(r.attestationMessages[i])}`);
  });
  out.push('');
  const p = r.provenanceDetail;
  out.push('provenance');
  if (!p) out.push('  none verified');
  else {
    out.push(`  builder    ${s(p.builder)}`);
    out.push(`  buildType  ${s(p.buildType)}`);
    out.push(`  source     ${s(p.sourceRepository)} @ ${s(p.sourceRevision)}${p.sourceRef ? ` (${s(p.sourceRef)})` : ''}`);
    out.push(`  trigger    ${s(p.trigger)}`);
    out.push(`  run        ${s(p.buildRun)}`);
    out.push(`  built      ${s(p.startedOn)} → ${s(p.finishedOn)}`);
  }
  out.push('');
  out.push(`traceability${j.traceability.consistent ? '' : '  (SOURCES DISAGREE)'}`);
  for (const k of ['repository', 'revision', 'run'] as const) {
    const f = j.traceability[k];
    out.push(`  ${k.padEnd(10)} ${s(f.value)}${f.consistent ? '' : '  ← disagreement'}`);
    for (const src of f.sources) out.push(`    ${src.from.padEnd(20)} ${s(src.value)}`);
  }
  out.push('');
  out.push(chainPasses(j) ? 'result: at least one trusted signature verifies' : 'result: no trusted signature verifies');
  return out.join('\n');
}

export async function runChain(ref: string, flags: ChainFlags, io: CliIo): Promise<number> {
  const opts: ChainOptions = {};
  if (flags.trust) opts.trustFile = flags.trust;
  if (flags.platform) opts.platform = parsePlatform(flags.platform);
  if (flags.insecureRegistry?.length) opts.insecureRegistries = flags.insecureRegistry;
  if (flags.tufRefresh) {
    const path = await refreshTrustedRoot();
    if (!flags.json) io.err(`vouch: trusted root updated through TUF: ${path}\n`);
  }
  const report = await verifyChain(ref, opts);
  if (flags.json) io.out(`${JSON.stringify(report.json, null, 2)}\n`);
  else io.out(`${formatChain(report)}\n`);
  return chainPasses(report.json) ? 0 : 1;
}

export function registerChain(program: Command, io: CliIo): void {
  program
    .command('chain')
    .description("verify an image's signatures, attestations and provenance against the trust file")
    .argument('<ref>', 'image reference: docker://, oci:, or a bare path / name')
    .option('--trust <file>', 'trust file (default: ./vouch.trust.yaml when present)')
    .option('--json', 'print one JSON object')
    .option('--tuf-refresh', 'update the Sigstore trusted root through TUF first (online)')
    .option('--platform <os/arch[/variant]>', "platform to pick from a multi-platform image (default: the host's)")
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable); loopback is always allowed', collect)
    .action(async (ref: string, flags: ChainFlags) => {
      io.setExitCode(await runChain(ref, flags, io));
    });
}
