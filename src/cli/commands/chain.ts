import type { Command } from 'commander';
import { chainPasses, refreshTrustedRoot, resolveTrust, verifyChain, type ChainOptions, type ChainReport } from '../../core/trust/chain.js';
import { unpinnedSignerWarnings } from '../../core/trust/trust-file.js';
import { sanitizeLine, terminalSafeJson } from '../../core/util/sanitize.js';
import { collect, parsePlatform } from '../options.js';
import type { CliIo } from '../io.js';
import type { ChainApproval } from '../../core/approval/attached.js';
import { loadSignerTrustFile } from '../../core/trust/trust-file.js';

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
  if (j.image.caveat) out.push(`note         ${sanitizeLine(j.image.caveat)}`);
  if (j.image.note) out.push(`note         ${sanitizeLine(j.image.note)}`);
  const file = j.trust.file === null ? '(no trust file: nothing is trusted)' : j.trust.implicit ? `${s(j.trust.file)} (implicit ./vouch.trust.yaml)` : s(j.trust.file);
  out.push(`trust        ${file}; root: ${s(j.trust.trustedRoot)}`);
  for (const w of j.warnings ?? []) out.push(`warning      ${sanitizeLine(w)}`);
  if (j.index) {
    const ix = j.index;
    const rule = ix.rule === 'index' ? 'signed itself' : ix.rule === 'every-platform' ? 'every platform manifest must be signed' : 'the selected platform suffices (allowPlatformOnlySignatures)';
    out.push(`index        ${ix.digest} (${rule})${ix.satisfied ? '' : `  ${ix.reason}`}`);
    for (const p of ix.platforms) {
      const state = !p.checked ? 'not checked' : p.signed ? `signed by ${p.signers.map(s).join(', ')}` : `UNSIGNED${p.reasons.length ? ` (${[...new Set(p.reasons)].join(', ')})` : ''}`;
      out.push(`  ${p.selected ? '*' : ' '} ${s(p.platform).padEnd(14)} ${p.digest.slice(0, 19)}  ${state}`);
    }
  }
  out.push('');
  out.push(`signatures (${j.signatures.length})`);
  if (j.signatures.length === 0) out.push('  none found');
  j.signatures.forEach((x, i) => {
    const who = x.signer ? (x.signer.type === 'key' ? `key ${s(x.signer.keyId).slice(0, 16)}` : `${s(x.signer.subject)} (${s(x.signer.issuer)})`) : 'unknown signer';
    const as = x.signer?.trustedAs ? ` as ${s(x.signer.trustedAs)}` : '';
    const log = x.tlog ? `; log index ${x.tlog.logIndex} at ${s(x.tlog.integratedTime)}` : x.verified ? '; no transparency log entry' : '';
    const over = x.signedDigest && x.signedDigest !== j.image.digest ? ` over ${x.signedDigest === j.index?.digest ? 'the index' : x.signedDigest.slice(0, 19)}` : '';
    out.push(`  ${x.verified ? 'OK  ' : 'FAIL'} ${x.kind.padEnd(6)} ${who}${as}${over}${log}`);
    // A layout or archive has no registry name to compare the signed one with (matchRepository cannot decide): say so.
    if (x.signedReference !== null) out.push(`       signed for ${s(x.signedReference)}${j.image.reference.startsWith('docker://') ? '' : ' (not compared: the image has no registry name)'}`);
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
  const approvals = j.approvals ?? [];
  out.push(`approvals (${approvals.length})`);
  if (approvals.length === 0) out.push('  none found');
  const selected = j.index?.platforms.find((p) => p.selected)?.platform ?? null;
  for (const a of approvals) out.push(formatChainApprovalLine(a, { index: j.index !== null, platform: selected }));
  out.push('');
  out.push(resultLine(j));
  return out.join('\n');
}

function resultLine(j: ChainReport['json']): string {
  if (chainPasses(j)) return j.index ? `result: ${j.index.rule === 'index' ? 'a trusted signature verifies over the index' : j.index.rule === 'every-platform' ? 'every platform manifest has a trusted signature' : 'the selected platform has a trusted signature'}` : 'result: at least one trusted signature verifies';
  if (j.index && j.signatures.some((x) => x.verified)) {
    const unsigned = j.index.platforms.filter((p) => p.checked && !p.signed).map((p) => p.platform);
    return `result: ${j.index.reason}: the index is not signed and ${unsigned.length ? `${unsigned.map(s).join(', ')} ${unsigned.length === 1 ? 'has' : 'have'} no trusted signature` : 'not every platform is signed'}`;
  }
  // Say it when the only trusted thing is an attestation: the "OK … by X" lines above are attestations, not signatures of the image.
  if (j.attestations.some((a) => a.verified)) return 'result: no trusted signature verifies (only attestations verified: an attestation is a claim about the image, not a signature of it)';
  return 'result: no trusted signature verifies';
}

export async function runChain(ref: string, flags: ChainFlags, io: CliIo): Promise<number> {
  const opts: ChainOptions = {};
  // Given explicitly, a file without signers is a mistake to report, not a verdict on the image.
  if (flags.trust) await loadSignerTrustFile(flags.trust);
  if (flags.trust) opts.trustFile = flags.trust;
  if (flags.platform) opts.platform = parsePlatform(flags.platform);
  if (flags.insecureRegistry?.length) opts.insecureRegistries = flags.insecureRegistry;
  if (flags.tufRefresh) {
    const path = await refreshTrustedRoot();
    if (!flags.json) io.err(`vouch: trusted root updated through TUF: ${path}\n`);
  }
  // Loaded here so that its warnings come first, even when the image cannot be opened.
  opts.trust = await resolveTrust(opts);
  for (const w of unpinnedSignerWarnings(opts.trust)) io.err(`vouch: warning: ${sanitizeLine(w)}\n`);
  const report = await verifyChain(ref, opts);
  if (flags.json) io.out(`${terminalSafeJson(report.json, 2)}\n`);
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

/**
 * One approval as `vouch chain` lists it, judged as `vouch verify` judges it: OK only when verify would accept it
 * for the digest the reference names; a rejection says REJECTED, an expired one EXPIRED, anything else FAIL with
 * verify's reason codes. Each names what it covers: the index, or only this (platform) manifest.
 */
export function formatChainApprovalLine(a: ChainApproval, on: { index: boolean; platform: string | null } = { index: false, platform: null }): string {
  const until = a.expiresAt ? (a.expired ? `, expired ${s(a.expiresAt)}` : `, valid until ${s(a.expiresAt)}`) : '';
  const covers = a.covers === 'index' ? ', covers the index' : a.covers === 'manifest' ? (on.index ? `, covers the ${on.platform ? `${s(on.platform)} ` : 'platform '}manifest only, not the index` : ', covers this manifest') : '';
  const codes = [...new Set((a.reasons ?? []).map((r) => r.code))].join(', ');
  const signed = a.reviewer !== null && a.decision !== null;
  const status = a.verified ? 'OK  ' : signed && a.decision === 'rejected' ? 'REJECTED' : a.expired && codes === 'EXPIRED' ? 'EXPIRED' : 'FAIL';
  const what = signed
    ? `${a.verified || codes === status ? '' : `${codes || a.reason}: `}${s(a.decision)} by ${s(a.reviewer)}${a.release ? ` (${s(a.release.name)} ${s(a.release.version)})` : ''}${until}${covers}`
    : `${a.reason}: ${s(a.message)}`;
  const line = `  ${status} ${a.via.padEnd(13)} ${a.digest.slice(0, 19)} ${what}`;
  // The reasons beyond the codes (when the signature verified): what verify would print.
  return signed && !a.verified ? `${line}\n${(a.reasons ?? []).map((r) => `       ${r.code}: ${s(r.message)}`).join('\n')}` : line;
}
