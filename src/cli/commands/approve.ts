/**
 * `vouch approve --session FILE --decision D [--rationale TEXT] [--key KEY |
 * --keyless] [--out FILE]`: refuse (exit 1, naming each blocker) what the
 * session does not support, build the statement, sign it, write the bundle,
 * and verify the written file against the trust file before saying so.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { approvalBlockers } from '../../core/approval/blockers.js';
import { defaultAuthor } from './annotate.js';
import { clearingAnnotations, exceptionLine, ForeignExceptionsError } from '../../core/approval/exceptions.js';
import { defaultApprovalPath, keySigner, reviewerOfFile, trustedReviewerFor, writeVerifiedApproval } from '../../core/approval/approve.js';
import { keyNeedsPassphrase } from '../../core/approval/key.js';
import { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL, identityTokenFrom, type ApprovalSigner } from '../../core/approval/sign.js';
import { indexCoverageLines } from '../../core/approval/statement.js';
import { evidenceTrustProblem } from '../../core/approval/verify.js';
import { VouchError } from '../../core/errors.js';
import { checkPins, pinLines, recordPins } from '../../core/review/pin-journal.js';
import { recheckSession } from '../../core/review/session.js';
import { readSessionFile } from '../../core/review/store.js';
import { DECISIONS, type Decision, type ReviewSession, type SessionImage } from '../../core/review/types.js';
import { loadTrustFile } from '../../core/trust/trust-file.js';
import { sanitizeLine, sanitizeLine as s, terminalSafeJson } from '../../core/util/sanitize.js';
import { readPassphrase } from '../passphrase.js';
import { collect } from '../options.js';
import type { CliIo } from '../io.js';

interface ApproveFlags {
  session: string;
  decision: string;
  rationale?: string;
  key?: string;
  keyless?: boolean;
  out?: string;
  reviewer?: string;
  acceptAnnotationsBy?: string;
  trust?: string;
  expires?: string;
  rekorUrl?: string;
  fulcioUrl?: string;
  tsaUrl?: string;
  identityToken?: string;
  json?: boolean;
  release?: string;
  insecureRegistry?: string[];
  acceptPins?: boolean;
}

function usage(msg: string): never {
  throw new VouchError('USAGE', `approve: ${msg}`);
}

/** A duration from now in the trust file's maxAge grammar (90s, 15m, 12h, 30d, 2w), or an ISO date-time; never in the past. */
function expiry(v: string, now: Date): Date {
  const m = /^([1-9][0-9]{0,5})([smhdw])$/.exec(v);
  if (m) return new Date(now.getTime() + Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w']);
  const t = Date.parse(v);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(v)) usage(`--expires: ${JSON.stringify(v)} is neither a duration (90s, 15m, 12h, 30d, 2w) nor an ISO date`);
  // An already-expired record would be signed only to be refused everywhere.
  if (t <= now.getTime()) usage(`--expires: ${JSON.stringify(v)} is in the past`);
  return new Date(t);
}

/** The identities Fulcio may certify for this token: its email, its subject, a GitHub workflow's URI. */
function tokenIdentity(token: string): { issuer: string; subjects: string[] } {
  try {
    const c = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: string; email?: string; sub?: string; job_workflow_ref?: string };
    const subjects = [c.email, c.sub, c.job_workflow_ref ? `https://github.com/${c.job_workflow_ref}` : undefined].filter((x): x is string => typeof x === 'string');
    return { issuer: String(c.iss ?? ''), subjects };
  } catch {
    return { issuer: '', subjects: [] };
  }
}

/** An OIDC identity token is a JWT: three base64url parts, the middle one a JSON object of claims. */
function checkJwt(token: string, where: string): void {
  const parts = token.split('.');
  let claims: unknown = null;
  if (parts.length === 3 && parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p)) && parts[1]) {
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      claims = null;
    }
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) usage(`${where}: not a JWT (expected three base64url parts, the second a JSON object of claims)`);
}

function tokenSubject(token: string): string {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { email?: string; sub?: string };
    return claims.email ?? claims.sub ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * A recheck mismatch on an image's check results, packages or layers, said as what is missing and extra
 * (result ids and subjects) rather than the two truncated JSON values; any other mismatch, or one whose
 * lists agree (the counts differ), as recheckSession said it. Only the message changes: the comparison
 * that refused is recheckSession's.
 */
function mismatchDetail(line: string, file: ReviewSession, fresh: ReviewSession): string {
  const m = /^images\.(.+)\.(checks|packages|layers): /.exec(line);
  if (!m) return line;
  const [, key, field] = m;
  const a = file.images.find((i) => sanitizeLine(i.key) === key);
  const b = fresh.images.find((i) => sanitizeLine(i.key) === key);
  if (!a || !b) return line;
  const items = (im: SessionImage): string[] =>
    field === 'checks' ? im.checks.results.map((r) => `${r.id} ${r.severity} ${r.status} (${r.subject})`) : field === 'packages' ? [...im.packages] : [...im.layers];
  const left = items(a);
  const right = items(b);
  const count = (xs: string[]): Map<string, number> => xs.reduce((acc, x) => acc.set(x, (acc.get(x) ?? 0) + 1), new Map<string, number>());
  const minus = (x: string[], y: string[]): string[] => {
    const have = count(y);
    return x.filter((v) => {
      const n = have.get(v) ?? 0;
      if (n > 0) have.set(v, n - 1);
      return n === 0;
    });
  };
  const missing = minus(right, left);
  const extra = minus(left, right);
  if (missing.length === 0 && extra.length === 0) {
    if (field !== 'checks') return line;
    const { results: _a, ...ca } = a.checks;
    const { results: _b, ...cb } = b.checks;
    return `images.${key}.checks: the results agree, the counts do not: the session says ${JSON.stringify(ca)}, a fresh run says ${JSON.stringify(cb)}`;
  }
  const list = (xs: string[]): string => `${xs.slice(0, 10).join(', ')}${xs.length > 10 ? ` and ${xs.length - 10} more` : ''}`;
  const what = field === 'checks' ? 'result(s)' : field === 'packages' ? 'package(s)' : 'layer(s)';
  const parts = [
    ...(missing.length ? [`the session lacks ${missing.length} ${what} a fresh run also finds: ${list(missing)}`] : []),
    ...(extra.length ? [`the session has ${extra.length} ${what} not in a fresh run: ${list(extra)}`] : []),
  ];
  return `images.${key}.${field}: ${parts.join('; ')}`;
}

/** A word as a POSIX shell reads it back: unquoted when plain, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The refusal for annotations by others, with a hint that can be pasted into a shell as printed
 * ("Nora Newcomer <nora@example.org>" quoted: unquoted, the shell reads `<` as a redirection).
 */
function foreignRefusal(e: ForeignExceptionsError): string {
  const authors = [...new Set(e.exceptions.map((x) => x.author))];
  return `refused: the decision relies on ${e.exceptions.length} annotation(s) not written by reviewer ${JSON.stringify(e.reviewer)} (by ${authors.map((a) => JSON.stringify(a)).join(', ')}); read them, then accept their authors with --accept-annotations-by ${shellQuote(authors.join(','))} (nothing written)`;
}

export async function runApprove(flags: ApproveFlags, io: CliIo): Promise<number> {
  if (!(DECISIONS as readonly string[]).includes(flags.decision)) usage(`--decision: ${JSON.stringify(flags.decision)} is not one of ${DECISIONS.join(', ')}`);
  const decision = flags.decision as Decision;
  if (flags.key && flags.keyless) usage('give one of --key or --keyless, not both');
  if (!flags.key && !flags.keyless) usage('give one of --key KEY or --keyless');
  // A token that cannot be one is said before the session is rechecked (and never reaches Fulcio).
  if (flags.keyless && flags.identityToken !== undefined) checkJwt(flags.identityToken, '--identity-token');
  else if (flags.keyless && process.env.SIGSTORE_ID_TOKEN) checkJwt(process.env.SIGSTORE_ID_TOKEN, 'SIGSTORE_ID_TOKEN');
  const file = await readSessionFile(flags.session);
  // The session file is only as trustworthy as the place it is pushed to: sign what a fresh run on the
  // pinned digests says (checks, chain, inventory, policy and trust digests), never the file's own claims.
  const recheck = await recheckSession(file, { ...(flags.release ? { releasePath: flags.release } : {}), ...(flags.insecureRegistry?.length ? { insecureRegistries: flags.insecureRegistry } : {}) });
  if (recheck.mismatches.length) {
    io.err(`vouch: ${decision} refused: ${s(resolve(flags.session))} does not match a fresh run of its automated part on the pinned images (the file is stale or was edited): ${recheck.mismatches.length} difference(s)\n`);
    for (const m of recheck.mismatches) io.err(`  differs: ${s(mismatchDetail(m, file, recheck.session))}\n`);
    io.err(`  refresh it with: vouch session init --release ${s(recheck.release.path)} --out ${s(resolve(flags.session))} (annotations are kept), review the results, then approve\n`);
    if (flags.json) io.out(`${terminalSafeJson({ ok: false, decision, mismatches: recheck.mismatches }, 2)}\n`);
    return 1;
  }
  const session = recheck.session;
  // The file may have been swapped since this machine created it (new pins, the reviewer's annotations copied
  // over): sign only the digests this machine pinned, and show which ones are signed.
  const pins = await checkPins(flags.session, session);
  if (pins.changed.length && !flags.acceptPins) {
    io.err(`vouch: ${decision} refused: the session's pinned digests are not the ones this machine pinned for ${s(session.release.name)} ${s(session.release.version)} (the file was replaced or edited; nothing signed):\n`);
    for (const line of pinLines(pins.changed)) io.err(`  changed: ${s(line)}\n`);
    io.err(`  review what it pins now (vouch review --session ${s(flags.session)}, or session init --out NEW.review.json), then approve again with --accept-pins to sign these digests\n`);
    if (flags.json) io.out(`${terminalSafeJson({ ok: false, decision, refused: 'PINS_CHANGED', changed: pins.changed }, 2)}\n`);
    return 1;
  }
  if (pins.changed.length) {
    io.err(`vouch: note: --accept-pins: signing digests this machine had not pinned for this release:\n`);
    for (const line of pinLines(pins.changed)) io.err(`  ${s(line)}\n`);
  }
  if (pins.unknown) {
    // Made elsewhere (a colleague's, CI's) or renamed to a release this machine never pinned: nothing to compare with.
    if (!flags.acceptPins) {
      io.err(`vouch: ${decision} refused: this machine never pinned the images of ${s(session.release.name)} ${s(session.release.version)} (it did not create this session); nothing signed. These are the digests you would sign:\n`);
      for (const im of session.images) io.err(`  ${s(im.key)} ${im.digest}\n`);
      io.err(`  if they are what you reviewed, approve again with --accept-pins; or re-create the session here: vouch session init --release ${s(recheck.release.path)} --out NEW.review.json\n`);
      if (flags.json) io.out(`${terminalSafeJson({ ok: false, decision, refused: 'PINS_UNKNOWN', images: session.images.map((im) => ({ key: im.key, digest: im.digest })) }, 2)}\n`);
      return 1;
    }
    io.err(`vouch: note: --accept-pins: signing the digests of a session this machine did not create:\n`);
    for (const im of session.images) io.err(`  ${s(im.key)} ${im.digest}\n`);
  }
  // The results were judged under the release's trust file; --trust is the reviewer's own. Where they list other
  // signers, `vouch verify` with the reviewer's file would refuse the record (TRUST_MISMATCH): say so now.
  const evidenceTrust = await loadTrustFile(recheck.release.trust);
  const trust = flags.trust ? await loadTrustFile(flags.trust) : evidenceTrust;
  const problem = evidenceTrustProblem(trust, evidenceTrust, session.baseline);
  if (problem?.what === 'signers') {
    io.err(`vouch: ${decision} refused: the release's trust file ${s(evidenceTrust.path)} lists other signers than ${s(trust.path)}: the session's signature results were judged under signers you do not trust (nothing signed)\n`);
    io.err(`  point the release's trust: at your trust file (or copy its signers), run vouch session init again, review, then approve\n`);
    if (flags.json) io.out(`${terminalSafeJson({ ok: false, decision, refused: 'TRUST_MISMATCH', releaseTrust: evidenceTrust.path, trust: trust.path }, 2)}\n`);
    return 1;
  }
  // The baseline was admitted under the release's trust file: its signer must be one of your reviewers too.
  if (problem?.what === 'baseline') {
    const base = session.baseline!;
    io.err(`vouch: ${decision} refused: the baseline ${s(base.path)} was approved by ${s(problem.identity)}, whom ${s(trust.path)} does not trust as a reviewer (the release's trust file ${s(evidenceTrust.path)} does); nothing signed\n`);
    if (flags.json) io.out(`${terminalSafeJson({ ok: false, decision, refused: 'TRUST_MISMATCH', baseline: base.path, identity: problem.identity, trust: trust.path }, 2)}\n`);
    return 1;
  }
  if (trust.reviewers.length === 0) throw new VouchError('INVALID_TRUST_FILE', `${trust.path}: reviewers: none listed; an approval must be signed by a trusted reviewer`);

  const blockers = approvalBlockers(session, decision);
  if (blockers.length) {
    io.err(`vouch: ${decision} refused: ${blockers.length} blocker(s)\n`);
    for (const b of blockers) io.err(`  blocker: ${s(b)}\n`);
    if (flags.json) io.out(`${terminalSafeJson({ ok: false, decision, blockers }, 2)}\n`);
    return 1;
  }

  // The exceptions this decision signs, with their authors (the session file is not trusted input; see writeVerifiedApproval).
  // Besides the reviewer's trusted name: what `vouch annotate` writes as this user's name.
  const accepted = [defaultAuthor(), ...(flags.acceptAnnotationsBy ?? '').split(',').map((x) => x.trim()).filter(Boolean)];
  const exceptions = clearingAnnotations(session, decision);
  const now = new Date();
  const expiresAt = flags.expires ? expiry(flags.expires, now) : undefined;
  let signer: ApprovalSigner;
  let identity: string;
  let trustedAs: string | null;
  if (flags.key) {
    // Asked only for an encrypted key that exists (a missing file is one line naming it, with no prompt first).
    const passphrase = (await keyNeedsPassphrase(flags.key)) ? await readPassphrase(`approve: ${resolve(flags.key)}`) : '';
    ({ signer, identity, trustedAs } = await keySigner(flags.key, passphrase, trust)); // a wrong passphrase fails here, before anything is written
  } else {
    const token = await identityTokenFrom(flags.identityToken);
    checkJwt(token, 'the OIDC token');
    signer = { kind: 'keyless', fulcioUrl: flags.fulcioUrl ?? DEFAULT_FULCIO_URL, rekorUrl: flags.rekorUrl ?? DEFAULT_REKOR_URL, identityToken: token, ...(flags.tsaUrl ? { tsaUrl: flags.tsaUrl } : {}) };
    identity = tokenSubject(token);
    trustedAs = trustedReviewerFor(trust, tokenIdentity(token));
  }
  // The record and its file name carry the trusted reviewer the signing identity is, never the OS user:
  // two reviewers on one account must not replace each other's approval.
  if (trustedAs && flags.reviewer && flags.reviewer !== trustedAs) usage(`--reviewer: ${JSON.stringify(flags.reviewer)}, but ${s(identity)} is trusted as reviewer ${JSON.stringify(trustedAs)} in ${trust.path}`);
  if (!trustedAs && !flags.reviewer) {
    io.err(`vouch: refused: ${s(identity)} matches no reviewer in ${s(trust.path)}; add it there, or give --reviewer NAME for an untrusted self-review (it will not verify)\n`);
    if (flags.json) io.out(`${terminalSafeJson({ ok: false, decision, refused: 'UNTRUSTED_SIGNER', identity, trust: trust.path }, 2)}\n`);
    return 1;
  }
  // (Keyless: Fulcio may certify an identity the token does not show; the verification below has the last word.)
  if (!trustedAs && flags.key && trust.reviewers.some((r) => r.name === flags.reviewer)) usage(`--reviewer: ${JSON.stringify(flags.reviewer)} is a trusted reviewer in ${trust.path} with another key or identity than ${s(identity)}`);
  if (!trustedAs) io.err(`vouch: warning: ${s(identity)} is not a reviewer in ${s(trust.path)}: this approval will not verify\n`);
  const name = trustedAs ?? flags.reviewer!;
  const out = flags.out ? resolve(flags.out) : defaultApprovalPath(flags.session, session, name);
  const shown = flags.out ?? out;
  // Checked before signing: a keyless signature costs a certificate and a log entry.
  if (!(await stat(dirname(out)).then((d) => d.isDirectory(), () => false))) usage(`cannot write ${shown}: no such directory`);
  if (await stat(out).then(() => true, () => false)) {
    const holder = await reviewerOfFile(out);
    if (holder !== name || !trustedAs) {
      io.err(`vouch: refused: ${shown} already holds ${holder === null ? 'a file that is not an approval record' : `the approval of reviewer ${JSON.stringify(s(holder))}`}; choose another --out (nothing written)\n`);
      if (flags.json) io.out(`${terminalSafeJson({ ok: false, decision, refused: 'OTHER_REVIEWERS_FILE', approval: out, holder }, 2)}\n`);
      return 1;
    }
  }
  let result;
  try {
    result = await writeVerifiedApproval({ session, decision, rationale: flags.rationale ?? '', reviewer: { name, identity }, trusted: trustedAs !== null, signer, trust, evidenceTrust, out, now, acceptAnnotationsBy: accepted, ...(expiresAt ? { expiresAt } : {}), ...(flags.key && flags.rekorUrl ? { rekorUrl: flags.rekorUrl } : {}) });
  } catch (e) {
    if (e instanceof ForeignExceptionsError) {
      io.err(`vouch: ${decision} ${s(foreignRefusal(e))}\n`);
      for (const x of e.exceptions) io.err(`  annotation: ${s(exceptionLine(x))}\n`);
      if (flags.json) io.out(`${terminalSafeJson({ ok: false, decision, refused: 'ANNOTATIONS_BY_OTHERS', reviewer: name, annotations: e.exceptions }, 2)}\n`);
      return 1;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') usage(`cannot write ${shown}: no such directory`);
    if (code) throw new VouchError('USAGE', `cannot write ${shown}: ${code}`);
    throw e;
  }
  const { statement, check } = result;
  // Accepted after reading them: these are now digests this machine pinned for the release.
  if (result.written && flags.acceptPins && (pins.unknown || pins.changed.length)) await recordPins(flags.session, session);
  if (!result.written) {
    const why = check.verified ? `signed by ${s(check.identity ?? '')}, trusted as reviewer ${s(check.reviewer ?? '')}, not ${s(name)}` : `${s(check.message)} (${check.code})`;
    io.err(`vouch: the signed approval does not verify against ${s(trust.path)}: ${why}; nothing written\n`);
    return 1;
  }
  if (!check.verified) {
    // Asked for explicitly (--reviewer with an unlisted key): written, and said plainly that it will not verify.
    io.err(`vouch: untrusted self-review written to ${s(out)}: it does not verify against ${s(trust.path)} (${check.code})\n`);
    if (flags.json) io.out(`${terminalSafeJson({ ok: true, decision, approval: out, reviewer: name, verified: false }, 2)}\n`);
    else io.out(`${decision}: ${s(session.release.name)} ${s(session.release.version)}\napproval  ${out} (untrusted self-review: will not verify)\n`);
    return 0;
  }
  const ok = check;
  if (flags.json) io.out(`${terminalSafeJson({ ok: true, decision, approval: out, reviewer: ok.reviewer, identity: ok.identity, subjects: statement.subject, exceptions }, 2)}\n`);
  else {
    io.out(`${decision}: ${s(session.release.name)} ${s(session.release.version)}\n`);
    io.out(`approval  ${s(out)}\n`);
    for (const x of statement.subject) io.out(`subject   ${s(x.name)} sha256:${x.digest.sha256}\n`);
    io.out(`checked   results recomputed on ${statement.subject.length} pinned digest(s) under policy ${session.policy.digest}, trust ${s(trust.path)}\n`);
    io.out(`verified  signed by ${s(ok.identity ?? '')}, trusted as reviewer ${s(ok.reviewer ?? '')}${ok.logged ? ', logged' : ''}\n`);
    for (const line of indexCoverageLines(session)) io.out(`platforms ${s(line)}\n`);
    for (const x of exceptions) io.out(`exception ${s(exceptionLine(x))}\n`);
  }
  return 0;
}

export function registerApprove(program: Command, io: CliIo): void {
  program
    .command('approve')
    .description('sign the decision on a review session as an approval record (in-toto statement, DSSE, Sigstore bundle v0.3)')
    .requiredOption('--session <file>', 'session file')
    .requiredOption('--decision <d>', DECISIONS.join(', '))
    .option('--rationale <text>', 'why')
    .option('--key <file>', 'sign with this private key (vouch key generate); passphrase from VOUCH_KEY_PASSWORD or a prompt')
    .option('--keyless', 'sign keylessly: Fulcio certificate for your OIDC identity, Rekor entry')
    .option('--out <file>', 'the approval file (default: <name>-<version>.<reviewer>.sigstore.json next to the session)')
    .option('--reviewer <name>', 'the reviewer name: must match the trusted reviewer of your key/identity (the default); for a key the trust file does not list, an untrusted self-review that will not verify')
    .option('--accept-pins', 'sign a session this machine did not create (a colleague\'s, CI\'s) after checking the digests it pins, which approve lists')
    .option('--accept-annotations-by <names>', "comma-separated authors besides you whose accepted-risk / false-positive annotations this decision may rely on (default: yours only; the session file is not trusted input)")
    .option('--trust <file>', "trust file to verify the result with (default: the session's)")
    .option('--expires <when>', 'expiry: a duration from now (90s, 15m, 12h, 30d, 2w) or a future ISO date')
    .option('--rekor-url <url>', `Rekor for keyless signing (default ${DEFAULT_REKOR_URL}); with --key, also log the approval there`)
    .option('--fulcio-url <url>', `Fulcio (default ${DEFAULT_FULCIO_URL})`)
    .option('--tsa-url <url>', 'an RFC 3161 timestamp authority to add a timestamp (keyless)')
    .option('--identity-token <jwt>', 'OIDC token (default: $SIGSTORE_ID_TOKEN, else GitHub Actions)')
    .option('--release <file>', "the release file whose images, policy and trust the results are recomputed with (default: the session's)")
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable); loopback is always allowed', collect)
    .option('--json', 'print one JSON object')
    .action(async (flags: ApproveFlags) => io.setExitCode(await runApprove(flags, io)));
}
