/**
 * The review session: what a reviewer looked at (each image pinned by digest,
 * the files and policy it was judged under, the automated results) and what
 * they said about it (annotations, with their history). Persisted as JSON next
 * to the release (schemas/review-session.v1.json); the approval record is built
 * from it.
 */

export const SESSION_VERSION = 1;

export const DISPOSITIONS = ['must-fix', 'accepted-risk', 'false-positive', 'note'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

export const DECISIONS = ['approved', 'approved-with-exceptions', 'rejected'] as const;
export type Decision = (typeof DECISIONS)[number];

/** A file the session was built from, by content digest. */
export interface FileDigest {
  /** Absolute path when the session was made. */
  path: string;
  digest: string;
}

/** A signature or attestation seen on the image, by its manifest/blob digest. */
export interface EvidenceItem {
  kind: 'signature' | 'attestation' | 'sbom' | 'provenance' | 'scan' | 'approval';
  digest: string;
  verified: boolean;
  /** Predicate type or media type, when known. */
  type: string | null;
  /** Trust file entry that verified it. */
  signer: string | null;
}

/** A failing (or excepted) check result, kept whole enough to annotate and to list in the approval. */
export interface SessionCheckResult {
  id: string;
  severity: string;
  status: 'fail' | 'excepted';
  /**
   * subjectKey() of the result's subject: a path, `package:<purl>`, `layer:<digest>`, `image`…, raw (control
   * characters and non-UTF-8 bytes as path-bytes.ts keeps them; JSON escapes them in the file). Never sanitised
   * here: two names that look the same once sanitised are two subjects. Sanitise when printing.
   */
  subject: string;
  message: string;
}

export interface SessionImage {
  /** Key in the release file (`api`). */
  key: string;
  /** As written in the release file. */
  reference: string;
  /** Repository name (`registry/repo`, or the layout path for oci:). */
  name: string;
  /** The reviewed platform manifest. */
  digest: string;
  /** The index it was picked from, for a multi-platform image. */
  index: string | null;
  /** Every platform manifest the index lists (when known): the index is approved only if all were reviewed. */
  indexPlatforms?: string[];
  platform: string;
  /** A reference that names exactly the pinned image (digest, not tag). */
  pinned: string;
  layers: string[];
  /** Package URLs of the catalogue, sorted. */
  packages: string[];
  /** Licences by purl (only packages that declare one), so that a later review sees licence changes. */
  licenses: Record<string, string[]>;
  inventory: { packages: number; byType: Record<string, number> };
  evidence: EvidenceItem[];
  chain: { signatures: number; verifiedSignatures: number; attestations: number; verifiedAttestations: number; provenance: boolean } | null;
  checks: { pass: number; fail: number; excepted: number; results: SessionCheckResult[] };
}

export type AnnotationSubject =
  | { kind: 'image'; image: string }
  | { kind: 'layer'; image: string; digest: string }
  | { kind: 'path'; image: string; path: string }
  | { kind: 'package'; image: string; purl: string }
  | { kind: 'signature'; image: string; digest: string }
  | { kind: 'check'; image: string; check: string; subject: string };

/** One state of an annotation; earlier states are kept in `history`. */
export interface AnnotationState {
  disposition: Disposition;
  severity: string | null;
  text: string;
  author: string;
  at: string;
  /** True once deleted (the annotation stays, with its history). */
  deleted: boolean;
}

export interface Annotation extends AnnotationState {
  id: string;
  subject: AnnotationSubject;
  createdAt: string;
  history: AnnotationState[];
}

export interface ReviewSession {
  version: typeof SESSION_VERSION;
  release: { name: string; version: string; file: FileDigest };
  createdAt: string;
  updatedAt: string;
  images: SessionImage[];
  policy: (FileDigest & { failOn: string }) | { path: null; digest: string; failOn: string };
  trust: FileDigest;
  /**
   * The previous approval record, when the release names one: only a live approval is accepted
   * (approval/baseline.ts); its decision, reviewer and reviewedAt (absent in sessions written before they were recorded).
   */
  baseline: (FileDigest & { release: { name: string; version: string } | null; decision?: string; reviewer?: string; identity?: string; reviewedAt?: string }) | null;
  annotations: Annotation[];
  /** Loud notes from the last refresh (a tag that moved away from its pinned digest). */
  warnings: string[];
}
