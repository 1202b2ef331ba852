/**
 * Writing an approval record from a (rechecked) session: who the signing key
 * is in the trust file, where the record goes by default, and sign → write to
 * a temp file → verify what is on disk as `vouch verify` will → rename into
 * place. `vouch approve` and the workbench's Approve screen both go through
 * here, so the two cannot drift apart.
 */
import { readFile } from 'node:fs/promises';
import { LOCAL_FILE_LIMITS, readLocalFile } from '../util/local-file.js';
import { basename, dirname, join, resolve } from 'node:path';
import { writeDurable } from '../review/store.js';
import type { Decision, ReviewSession } from '../review/types.js';
import { signerDigests, type TrustFile } from '../trust/trust-file.js';
import { exceptionsByOthers, ForeignExceptionsError } from './exceptions.js';
import { loadPrivateKey } from './key.js';
import { signApprovalStatement, type ApprovalSigner } from './sign.js';
import { buildApprovalStatement, type ApprovalStatement } from './statement.js';
import { parseApproval, verifyApprovalSignature, type SignatureCheck } from './verify.js';

/** The trusted reviewer a key or an OIDC token's identity matches (the name the record and its file carry). */
export function trustedReviewerFor(trust: TrustFile, who: { keyId: string } | { issuer: string; subjects: string[] }): string | null {
  for (const r of trust.reviewers) {
    if ('keyId' in who) {
      if (r.type === 'key' && r.key.keyId === who.keyId) return r.name;
    } else if (r.type === 'keyless' && r.issuer === who.issuer && who.subjects.some((x) => (r.subject !== undefined ? x === r.subject : !!r.pattern?.test(x)))) return r.name;
  }
  return null;
}

/** A key signer: opens the key (a wrong passphrase fails here, before anything is written) and names it in the trust file. */
export async function keySigner(keyPath: string, passphrase: string, trust: TrustFile): Promise<{ signer: ApprovalSigner; identity: string; trustedAs: string | null }> {
  const k = await loadPrivateKey(keyPath, passphrase);
  return { signer: { kind: 'key', keyPath, passphrase }, identity: `key ${k.keyId}`, trustedAs: trustedReviewerFor(trust, { keyId: k.keyId }) };
}

/** `<name>-<version>.<reviewer>.sigstore.json` in the session's folder (basename only, whatever the names hold). */
export function defaultApprovalPath(sessionPath: string, session: Pick<ReviewSession, 'release'>, reviewer: string): string {
  const slug = reviewer.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64) || 'reviewer';
  return resolve(join(dirname(resolve(sessionPath)), basename(`${session.release.name}-${session.release.version}.${slug}.sigstore.json`)));
}

export interface WriteApprovalOptions {
  /** The session as a fresh run on its pinned digests says (recheckSession), never the file's own claims. */
  session: ReviewSession;
  decision: Decision;
  rationale: string;
  reviewer: { name: string; identity: string };
  /** Whether the trust file names the signing identity as `reviewer.name` (else an untrusted self-review). */
  trusted: boolean;
  signer: ApprovalSigner;
  /** The trust file the written record is verified against (the reviewer's). */
  trust: TrustFile;
  /** The trust file the session's results were judged under (the release's): its signers digest is recorded. */
  evidenceTrust: TrustFile;
  out: string;
  now?: Date;
  expiresAt?: Date;
  /** Also log a key-signed approval in this Rekor. */
  rekorUrl?: string;
  /**
   * Authors besides the reviewer whose accepted-risk / false-positive annotations the reviewer accepts.
   * An exception the decision needs by anyone else refuses the signing (ForeignExceptionsError): the
   * session file is not trusted input, anyone who can write it can add annotations under any name.
   */
  acceptAnnotationsBy?: readonly string[];
  /**
   * Annotation ids (of authors not accepted above) the reviewer read and accepts one by one: the
   * workbench accepts exactly the exceptions it showed. Any other exception by someone else still refuses.
   */
  acceptAnnotationIds?: readonly string[];
}

export type WriteApprovalResult =
  /** Written; `check.verified` false only for an untrusted self-review that was asked for. */
  | { written: true; path: string; statement: ApprovalStatement; check: SignatureCheck }
  /** The signed record does not verify as the reviewer it names: nothing was written. */
  | { written: false; path: string; statement: ApprovalStatement; check: SignatureCheck };

class NotVerified extends Error {}

/**
 * Build, sign, write and verify. Only a verified file replaces `out`
 * (atomically), so a failure never touches an existing approval. File-system
 * errors are thrown as they come (the caller words them).
 */
export async function writeVerifiedApproval(o: WriteApprovalOptions): Promise<WriteApprovalResult> {
  const foreign = exceptionsByOthers(o.session, o.decision, o.reviewer.name, o.acceptAnnotationsBy ?? [], o.acceptAnnotationIds ?? []);
  if (foreign.length) throw new ForeignExceptionsError(o.reviewer.name, foreign);
  const statement = buildApprovalStatement(o.session, o.decision, o.rationale, o.reviewer, { now: o.now ?? new Date(), signers: signerDigests(o.evidenceTrust), ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}) });
  const bundle = await signApprovalStatement(statement, o.signer, o.signer.kind === 'key' && o.rekorUrl ? { rekorUrl: o.rekorUrl } : {});
  const text = `${JSON.stringify(bundle)}\n`;
  const first = statement.subject[0]!;
  const name = o.reviewer.name;
  let check: SignatureCheck | undefined;
  try {
    await writeDurable(o.out, text, 0o644, async (tmp) => {
      check = verifyApprovalSignature(parseApproval(await readFile(tmp), o.out), `sha256:${first.digest.sha256}`, o.trust);
      // The record names a trusted reviewer only if the signature is theirs.
      if (check.verified ? check.reviewer !== name : o.trusted || o.trust.reviewers.some((r) => r.name === name)) throw new NotVerified();
    });
  } catch (e) {
    if (e instanceof NotVerified) return { written: false, path: o.out, statement, check: check! };
    throw e;
  }
  return { written: true, path: o.out, statement, check: check! };
}

/** The reviewer name inside an existing approval file (null: unreadable as one). */
export async function reviewerOfFile(path: string): Promise<string | null> {
  try {
    const b = JSON.parse((await readLocalFile(path, { what: 'approval', max: LOCAL_FILE_LIMITS.approval })).toString('utf8')) as { dsseEnvelope?: { payload?: string } };
    const st = JSON.parse(Buffer.from(b.dsseEnvelope?.payload ?? '', 'base64').toString('utf8')) as { predicate?: { reviewer?: { name?: unknown } } };
    return typeof st.predicate?.reviewer?.name === 'string' ? st.predicate.reviewer.name : null;
  } catch {
    return null;
  }
}
