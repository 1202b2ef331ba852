/**
 * The SessionPort `vouch review` uses: the review session file through its one
 * writer (src/core/review/store.ts: held lock, every change saved durably
 * before the call resolves, so what the screen acknowledges survives a
 * SIGKILL), annotations through src/core/review/annotations.ts (history kept),
 * blockers from the core's approvalBlockers, and Approve through the calls
 * `vouch approve` makes (recheck on the pinned digests, blockers, key signer,
 * sign → write → verify, src/core/approval/approve.ts), then the written file
 * verified for every image as `vouch verify` does. Runs in the UI process but
 * is not part of the UI bundle: the command builds it and hands it over.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { defaultApprovalPath, keySigner, reviewerOfFile, writeVerifiedApproval } from '../core/approval/approve.js';
import { exceptionLine, exceptionsByOthers } from '../core/approval/exceptions.js';
import { APPROVAL_FILE_SUFFIX, evidenceTrustProblem, loadApprovals, verifyApprovalsForImage } from '../core/approval/verify.js';
import { keyNeedsPassphrase } from '../core/approval/key.js';
import { errorLine, isVouchError } from '../core/errors.js';
import { addAnnotations, deleteAnnotation, editAnnotation, resolveSubjects, type SubjectSpec } from '../core/review/annotations.js';
import { checkPins, pinLines } from '../core/review/pin-journal.js';
import { recheckSession } from '../core/review/session.js';
import type { SessionWriter } from '../core/review/store.js';
import type { AnnotationSubject as CoreSubject } from '../core/review/types.js';
import { loadTrustFile } from '../core/trust/trust-file.js';
import { sanitizeLine as s } from '../core/util/sanitize.js';
import type { ReviewModel } from './model.js';
import { blockersOf, failingResultsDiffer, fromCoreAnnotation, shownImagesDiffer, toCoreSubject } from './session-map.js';
import type { Annotation, AnnotationFields, AnnotationSubject, ApproveRequest, ApproveResult, Blocker, Decision, DecisionRecord, SessionPort } from './session-port.js';

export interface SigningKey {
  /** Private key file (vouch key generate). */
  path: string;
  /** Its passphrase when known (the demo key's is documented); else VOUCH_KEY_PASSWORD, else Approve asks for it. */
  passphrase?: string;
}

export interface StorePortOptions {
  writer: SessionWriter;
  model: ReviewModel;
  author: string;
  /** What Approve signs with; null: Approve says how to set one. */
  signingKey: SigningKey | null;
  /** The release file the recheck uses (default: the one the session records). */
  releasePath?: string;
  insecureRegistries?: string[];
  /** False when the session's results were not refreshed (its release file is gone): nothing it says was recomputed. */
  refreshed?: boolean;
  /** The reviewer's own trust file (`vouch review --trust`): the record is verified against it, as `vouch approve --trust` does. */
  trustPath?: string;
}

function refused(message: string, blockers: Blocker[] = []): ApproveResult {
  return { ok: false, path: null, message, blockers };
}

export class StoreSessionPort implements SessionPort {
  /** The passphrase the reviewer typed once it opened the key (this process only; never written anywhere). */
  private typed: string | undefined;

  constructor(private readonly o: StorePortOptions) {}

  get path(): string {
    return this.o.writer.path;
  }

  async load(): Promise<Annotation[]> {
    return this.o.writer.session.annotations.map((a) => fromCoreAnnotation(this.o.model, a));
  }

  /** The session subject, checked the way `vouch annotate` checks it (a subject the session lacks is refused). */
  private async subject(sub: AnnotationSubject): Promise<CoreSubject> {
    const core = toCoreSubject(this.o.model, sub);
    if (core.kind === 'check') return core; // found in the reviewed results by toCoreSubject
    const spec: SubjectSpec =
      core.kind === 'image' ? { kind: 'image' } : core.kind === 'layer' ? { kind: 'layer', digest: core.digest } : core.kind === 'path' ? { kind: 'path', path: core.path } : core.kind === 'package' ? { kind: 'package', purl: core.purl } : { kind: 'signature', digest: core.digest };
    const model = this.o.model.images.find((im) => im.name === sub.image);
    // The session does not hold file lists: the reviewed image's layers answer for paths.
    const pathExists = async (_: unknown, path: string): Promise<boolean> => !!model && model.layerFiles.some((files) => files.some((f) => f.path === path || `/${f.path.replace(/^\.?\//, '')}` === path));
    const [resolved] = await resolveSubjects(this.o.writer.session, sub.image, spec, pathExists);
    return resolved!;
  }

  async annotate(subject: AnnotationSubject, fields: AnnotationFields): Promise<Annotation> {
    const core = await this.subject(subject);
    const [a] = await this.o.writer.update((session) => addAnnotations(session, [core], { disposition: fields.disposition, severity: fields.severity ?? null, text: fields.text, author: this.o.author }));
    return fromCoreAnnotation(this.o.model, a!);
  }

  async edit(id: string, fields: Partial<AnnotationFields>): Promise<Annotation> {
    const change = { ...(fields.disposition ? { disposition: fields.disposition } : {}), ...('severity' in fields ? { severity: fields.severity ?? null } : {}), ...(fields.text !== undefined ? { text: fields.text } : {}) };
    const a = await this.o.writer.update((session) => editAnnotation(session, id, change, this.o.author));
    return fromCoreAnnotation(this.o.model, a);
  }

  async delete(id: string): Promise<Annotation> {
    const a = await this.o.writer.update((session) => deleteAnnotation(session, id, this.o.author));
    return fromCoreAnnotation(this.o.model, a);
  }

  /** The core's blockers, plus any reason the session is not what the workbench shows (then Approve is refused too). */
  async blockers(decision: Decision): Promise<Blocker[]> {
    const session = this.o.writer.session;
    const stale: Blocker[] = [];
    if (this.o.refreshed === false) stale.push({ kind: 'stale', message: `approval is impossible without the release file (${s(session.release.file.path)}): the session's results were not refreshed` });
    const images = shownImagesDiffer(this.o.model, session);
    if (images) stale.push({ kind: 'stale', message: `the session is not what the workbench shows: ${images}; reopen the workbench` });
    const results = failingResultsDiffer(this.o.model, session);
    if (results) stale.push({ kind: 'stale', message: `the session's failing results differ from the workbench's: ${results}; reopen the workbench` });
    return [...stale, ...blockersOf(session, decision)];
  }

  /**
   * The session keeps no record of its approvals: the signed records Approve writes beside the session file
   * (defaultApprovalPath: RELEASE-VERSION.REVIEWER.sigstore.json) are. The newest one for this release that
   * names exactly the session's images; verified against the trust file before it is called verified.
   */
  async lastDecision(): Promise<DecisionRecord | null> {
    const session = this.o.writer.session;
    const dir = dirname(defaultApprovalPath(this.path, session, 'x'));
    const prefix = basename(`${session.release.name}-${session.release.version}.`);
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.startsWith(prefix) && n.endsWith(APPROVAL_FILE_SUFFIX)).sort();
    } catch {
      return null;
    }
    const want = session.images.map((im) => `${im.name}@${im.digest}`).sort().join(' ');
    let best: { loaded: Awaited<ReturnType<typeof loadApprovals>>[number]; at: string } | null = null;
    for (const n of names) {
      try {
        const [loaded] = await loadApprovals([join(dir, n)]);
        const p = loaded?.statement.predicate;
        if (!loaded || !p || p.release.name !== session.release.name || p.release.version !== session.release.version) continue;
        if (p.images.map((im) => `${im.name}@${im.digest}`).sort().join(' ') !== want) continue;
        if (!best || p.reviewedAt > best.at) best = { loaded, at: p.reviewedAt };
      } catch {
        continue; // not an approval record: not a decision
      }
    }
    if (!best) return null;
    let verified = false;
    try {
      const trust = await loadTrustFile(session.trust.path);
      const verdicts = await Promise.all(session.images.map((im) => verifyApprovalsForImage([best!.loaded], { name: im.name, digest: im.digest }, trust)));
      verified = verdicts.every((v) => v.ok);
    } catch {
      verified = false;
    }
    const p = best.loaded.statement.predicate;
    return { decision: p.decision, reviewer: s(p.reviewer.name), path: best.loaded.path, verified };
  }

  async approve(req: ApproveRequest): Promise<ApproveResult> {
    try {
      return await this.sign(req);
    } catch (e) {
      return refused(`not signed: ${errorLine(e)}`);
    }
  }

  private async sign(req: ApproveRequest): Promise<ApproveResult> {
    const { decision } = req;
    // As `vouch approve`: sign what a fresh run on the pinned digests says, never the file's own claims.
    const recheck = await recheckSession(this.o.writer.session, { ...(this.o.releasePath ? { releasePath: this.o.releasePath } : {}), ...(this.o.insecureRegistries ? { insecureRegistries: this.o.insecureRegistries } : {}) });
    if (recheck.mismatches.length) return refused(`refused: the session does not match a fresh run on the pinned images (${recheck.mismatches.length} difference(s)): ${s(recheck.mismatches[0]!)}; run vouch session init --release ${s(recheck.release.path)} --out ${s(this.path)}`);
    const session = recheck.session;
    // Swapped since this machine created it (pin-journal.ts): refused, naming what changed.
    const pins = await checkPins(this.path, session);
    if (pins.changed.length) return refused(`refused: the session's pins are not the ones this machine pinned: ${s(pinLines(pins.changed).join('; '))}; nothing written`);
    if (pins.unknown) return refused(`refused: this machine never pinned the images of ${s(session.release.name)} ${s(session.release.version)} (it did not create this session): check the digests above, then sign with vouch approve --session ${s(this.path)} --accept-pins; nothing written`);
    // Sign only the images the reviewer was shown: the release file may have gained or swapped one since the screens were built.
    const notShown = shownImagesDiffer(this.o.model, session);
    if (notShown) return refused(`refused: the approval would cover images the workbench does not show: ${notShown}; reopen the workbench; nothing written`);
    const blockers = blockersOf(session, decision);
    if (blockers.length) return refused(`refused: ${blockers.length} blocker${blockers.length === 1 ? '' : 's'}`, blockers);
    const evidenceTrust = await loadTrustFile(recheck.release.trust);
    const trust = this.o.trustPath ? await loadTrustFile(this.o.trustPath) : evidenceTrust;
    // As `vouch approve --trust`: the results were judged under the release's trust file, which must not count signers,
    // or a baseline signer, that the reviewer's own file does not trust (vouch verify would say TRUST_MISMATCH).
    const problem = evidenceTrustProblem(trust, evidenceTrust, session.baseline);
    if (problem?.what === 'signers') return refused(`refused: the release's trust file ${s(evidenceTrust.path)} lists signers ${s(trust.path)} does not; nothing written`);
    if (problem?.what === 'baseline') return refused(`refused: the baseline was approved by ${s(problem.identity)}, whom ${s(trust.path)} does not trust as a reviewer; nothing written`);
    if (trust.reviewers.length === 0) return refused(`refused: ${s(trust.path)} lists no reviewers; an approval must be signed by a trusted reviewer`);
    const key = this.o.signingKey;
    if (!key) return refused('no signing key: set one with vouch config set signing.key FILE (vouch key generate makes one)');
    if (!existsSync(key.path)) return refused(`the signing key ${s(key.path)} does not exist: vouch config set signing.key FILE (vouch key generate makes one)`);
    // What was typed wins, then what is known; an encrypted key without one is asked for (the screen's masked input).
    const passphrase = req.passphrase ?? key.passphrase ?? this.typed ?? process.env.VOUCH_KEY_PASSWORD ?? ((await keyNeedsPassphrase(key.path)) ? undefined : '');
    if (passphrase === undefined) return { ...refused(`${s(key.path)} is encrypted: type its passphrase`), passphrase: { key: key.path, wrong: false } };
    let opened: Awaited<ReturnType<typeof keySigner>>;
    try {
      opened = await keySigner(key.path, passphrase, trust);
    } catch (e) {
      if (isVouchError(e) && e.code === 'INVALID_KEY' && /wrong passphrase/.test(e.message)) return { ...refused(errorLine(e)), passphrase: { key: key.path, wrong: true } };
      throw e;
    }
    if (req.passphrase !== undefined) this.typed = req.passphrase;
    const { signer, identity, trustedAs } = opened;
    if (!trustedAs) return refused(`refused: ${s(identity)} (${s(key.path)}) matches no reviewer in ${trust.path}`);
    const out = defaultApprovalPath(this.path, session, trustedAs);
    if (existsSync(out) && (await reviewerOfFile(out)) !== trustedAs) return refused(`refused: ${out} already holds another reviewer's approval (or is not one); nothing written`);
    // Exceptions written by someone else (the session file is not trusted input): listed, not signed; vouch approve --accept-annotations-by signs them.
    // The screen shows them and asks again with the ids of those it showed and the reviewer accepted: any other still refuses.
    const accepted = [this.o.author];
    const ids = req.acceptAnnotationIds ?? [];
    const foreign = exceptionsByOthers(session, decision, trustedAs, accepted, ids);
    if (foreign.length) {
      const authors = [...new Set(foreign.map((x) => x.author))];
      return {
        ...refused(`refused: ${foreign.length} exception(s) written by others (${authors.map(s).join(', ')}), not by you (${s(this.o.author)}); nothing written`, foreign.map((x) => ({ kind: 'foreign-exception' as const, id: x.id, author: s(x.author), message: s(exceptionLine(x)) }))),
        foreign: { authors },
      };
    }
    const written = await writeVerifiedApproval({ session, decision, rationale: req.rationale, reviewer: { name: trustedAs, identity }, trusted: true, signer, trust, evidenceTrust, out, acceptAnnotationsBy: accepted, acceptAnnotationIds: ids });
    if (!written.written) return refused(`the signed approval does not verify against ${trust.path}: ${s(written.check.message)} (${written.check.code}); nothing written`);
    // What `vouch verify APPROVAL --image NAME@DIGEST --trust FILE` says for each image.
    const loaded = await loadApprovals([out]);
    const verdicts = await Promise.all(session.images.map(async (im) => ({ key: im.key, v: await verifyApprovalsForImage(loaded, { name: im.name, digest: im.digest }, trust) })));
    const bad = verdicts.filter((x) => !x.v.ok);
    // The verdict first: a narrow terminal cuts the end of the line.
    const verified = bad.length === 0 ? `vouch verify: ok for ${verdicts.map((x) => x.key).join(', ')}` : `vouch verify refuses ${bad.map((x) => `${x.key} (${x.v.reasons.map((r) => r.code).join(', ')})`).join('; ')}`;
    return { ok: true, path: out, message: `${decision} signed · ${verified} · reviewer ${s(trustedAs)}, ${s(identity)}`, blockers: [] };
  }
}
