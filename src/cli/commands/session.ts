/**
 * `vouch session init --release FILE [--out FILE]`: resolve, pin, catalogue,
 * check; write the session (or refresh an existing one on its pinned digests).
 * `vouch session show FILE [--json]`: what it holds, open findings by disposition.
 */
import { progressReporter } from '../progress.js';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { sessionFindings, annotationSubjectKey, indexCovered, indexCoverageLines } from '../../core/approval/statement.js';
import { approvalBlockers } from '../../core/approval/blockers.js';
import { loadReleaseFile } from '../../core/review/release.js';
import { createSession, defaultSessionPath, refreshSession } from '../../core/review/session.js';
import { checkPins, pinLines, recordPins } from '../../core/review/pin-journal.js';
import { readSessionFile, SessionWriter } from '../../core/review/store.js';
import type { ReviewSession } from '../../core/review/types.js';
import { sanitizeLine as s, terminalSafeJson } from '../../core/util/sanitize.js';
import { collect } from '../options.js';
import type { CliIo } from '../io.js';

interface InitFlags {
  release: string;
  out?: string;
  json?: boolean;
  insecureRegistry?: string[];
}

export async function runSessionInit(flags: InitFlags, io: CliIo): Promise<number> {
  const release = await loadReleaseFile(flags.release);
  const out = flags.out ?? defaultSessionPath(release);
  const opts = { ...(flags.insecureRegistry?.length ? { insecureRegistries: flags.insecureRegistry } : {}) };
  let session: ReviewSession;
  const progress = progressReporter();
  if (existsSync(out)) {
    // Refresh: the lock first, so that nobody annotates while the results change under them.
    const w = await SessionWriter.open(out);
    try {
      const fresh = await refreshSession(w.session, release.path, { ...opts, onProgress: (k, p) => progress.update(p, k) }).finally(progress.done);
      session = await w.update((cur) => {
        Object.assign(cur, { ...fresh, annotations: cur.annotations });
        return cur;
      });
    } finally {
      await w.close();
    }
    const pins = await checkPins(out, session);
    for (const line of pinLines(pins.changed)) io.err(`vouch: WARNING: ${s(line)}; the file was replaced or edited, and approve will refuse it\n`);
  } else {
    // The lock before the long build, existence re-checked under it: a second init running at the
    // same time is refused, and never overwrites a session someone created and annotated meanwhile.
    const w = await SessionWriter.create(out, () =>
      createSession(release.path, {
        ...opts,
        onImage: (k, d) => {
          progress.done();
          io.err(`vouch: ${s(k)} pinned at ${d}\n`);
        },
        onProgress: (k, p) => progress.update(p, k),
      }).finally(progress.done),
    );
    session = w.session;
    await w.close();
    // This machine's own record of what it pinned: approve refuses a session file whose pins were swapped since.
    await recordPins(out, session);
  }
  for (const line of session.warnings) io.err(`vouch: ${s(line)}\n`);
  if (flags.json) io.out(`${terminalSafeJson({ session: out, release: session.release, images: session.images.map((i) => ({ key: i.key, digest: i.digest, index: i.index })), warnings: session.warnings }, 2)}\n`);
  else io.out(`${formatSession(session, out)}\n`);
  return 0;
}

export function sessionSummary(session: ReviewSession) {
  const findings = sessionFindings(session);
  const byDisposition: Record<string, number> = { open: 0, 'must-fix': 0, 'accepted-risk': 0, 'false-positive': 0, note: 0 };
  for (const f of findings) byDisposition[f.disposition] = (byDisposition[f.disposition] ?? 0) + 1;
  return {
    release: { name: session.release.name, version: session.release.version },
    images: session.images.map((i) => ({
      key: i.key,
      reference: i.reference,
      digest: i.digest,
      index: i.index,
      platform: i.platform,
      // Whether an approval of this session would name the index (every platform in it reviewed).
      ...(i.index ? { indexCovered: indexCovered(session, i) } : {}),
      packages: i.inventory.packages,
      checks: { pass: i.checks.pass, fail: i.checks.fail, excepted: i.checks.excepted },
      chain: i.chain,
    })),
    policy: session.policy,
    trust: session.trust,
    baseline: session.baseline,
    findings,
    byDisposition,
    annotations: session.annotations,
    blockers: { approved: approvalBlockers(session, 'approved'), 'approved-with-exceptions': approvalBlockers(session, 'approved-with-exceptions') },
    warnings: session.warnings,
  };
}

export function formatSession(session: ReviewSession, path: string): string {
  const sum = sessionSummary(session);
  const out: string[] = [];
  out.push(`session  ${s(path)}`);
  out.push(`release  ${s(session.release.name)} ${s(session.release.version)}`);
  out.push(`policy   ${session.policy.path ? `${s(session.policy.path)} ` : ''}${s(session.policy.digest)} (fail on ${s(session.policy.failOn)})`);
  out.push(`trust    ${s(session.trust.path)} ${s(session.trust.digest)}`);
  if (session.baseline) {
    const b = session.baseline;
    // Which release, decision, reviewer and time: a path alone says nothing of what the baseline approved.
    const what = b.release ? `${b.release.name} ${b.release.version}${b.decision ? ` ${b.decision}` : ''}${b.reviewer ? ` by ${b.reviewer}` : ''}${b.reviewedAt ? ` at ${b.reviewedAt}` : ''}` : '';
    out.push(`baseline ${s(b.path)}${what ? `: ${s(what)}` : ''}`);
  }
  out.push('');
  for (const im of session.images) {
    out.push(`${s(im.key)}  ${s(im.reference)}`);
    out.push(`  pinned   ${im.index ? `${s(im.index)} → ` : ''}${s(im.digest)} (${s(im.platform)})`);
    out.push(`  packages ${im.inventory.packages}; checks ${im.checks.fail} failing, ${im.checks.excepted} excepted, ${im.checks.pass} passed`);
    if (im.chain) out.push(`  chain    ${im.chain.verifiedSignatures}/${im.chain.signatures} signatures, ${im.chain.verifiedAttestations}/${im.chain.attestations} attestations verified`);
  }
  for (const line of indexCoverageLines(session)) out.push(`platforms ${s(line)}`);
  out.push('');
  out.push(`findings ${Object.entries(sum.byDisposition).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const d of ['must-fix', 'open', 'accepted-risk', 'false-positive', 'note']) {
    const list = sum.findings.filter((f) => f.disposition === d);
    if (list.length === 0) continue;
    out.push(`  ${d}:`);
    for (const f of list) out.push(`    ${s(f.image)}  ${s(f.id)}  ${s(f.severity ?? '-')}  ${s(f.subject)}  ${s(f.text)}`);
  }
  // Who wrote each annotation: the file is not trusted input, an exception by an unexpected author must show.
  const live = session.annotations.filter((a) => !a.deleted);
  if (live.length) {
    out.push('  annotations (by author):');
    for (const a of live) out.push(`    ${s(a.id)}  ${s(a.disposition)}  by ${JSON.stringify(s(a.author))}  ${s(a.subject.image)} ${s(annotationSubjectKey(a.subject))}: ${s(a.text)}`);
  }
  const history = session.annotations.filter((a) => a.history.length > 0 || a.deleted);
  if (history.length) {
    out.push('  changed or deleted annotations:');
    for (const a of history) out.push(`    ${s(a.id)}${a.deleted ? ' (deleted)' : ''} ${s(annotationSubjectKey(a.subject))}: ${a.history.length} earlier state(s)`);
  }
  for (const w of session.warnings) out.push(s(w));
  // Each blocker named (as approve names them), for both decisions that need the findings decided.
  for (const d of ['approved', 'approved-with-exceptions'] as const) {
    const list = sum.blockers[d];
    out.push('');
    if (list.length === 0) {
      out.push(`nothing blocks ${d}`);
      continue;
    }
    out.push(`${d} is blocked by ${list.length} finding(s):`);
    for (const b of list) out.push(`  ${s(b)}`);
  }
  return out.join('\n');
}

export async function runSessionShow(file: string, flags: { json?: boolean }, io: CliIo): Promise<number> {
  const session = await readSessionFile(file);
  // Every string comes from a file anyone with push access may have edited: escaped in JSON, sanitised in text.
  if (flags.json) io.out(`${terminalSafeJson(sessionSummary(session), 2)}\n`);
  else io.out(`${formatSession(session, file)}\n`);
  return 0;
}

export function registerSession(program: Command, io: CliIo): void {
  const cmd = program.command('session').description('review sessions: pin a release, hold the automated results and the reviewer\'s annotations');
  cmd
    .command('init')
    .description('resolve and pin every image of a release, run the checks and the chain, write the session (refresh it when it exists)')
    .requiredOption('--release <file>', 'the release file (vouch.release.yaml)')
    .option('--out <file>', 'session file (default: <name>-<version>.review.json next to the release)')
    .option('--json', 'print one JSON object')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable); loopback is always allowed', collect)
    .action(async (flags: InitFlags) => io.setExitCode(await runSessionInit(flags, io)));
  cmd
    .command('show')
    .description('what a session holds: images, results, open findings by disposition, what blocks approval')
    .argument('<file>', 'session file')
    .option('--json', 'print one JSON object')
    .action(async (file: string, flags: { json?: boolean }) => io.setExitCode(await runSessionShow(file, flags, io)));
}
