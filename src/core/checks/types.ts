import type { CacheInfo } from '../layers/verify.js';
/**
 * The check model. A `Check` is a pure function of a `CheckContext`: the
 * context is built once per image from cached data (analysis, layer walks,
 * merged filesystem, package inventory, trust chain, baseline, scans, content
 * facts) and every check reads it without I/O. A check returns its findings
 * (each names its subject precisely) or a pass note; the runner turns them into
 * results, applies the policy (enabled, severities, exceptions) and adds the
 * pass results.
 *
 * Extension point for content scanners (secret files, private keys, .npmrc
 * tokens, /etc/shadow, duplicate UIDs, secrets deleted in a later layer): they
 * run as catalog-style plugins inside the single layer pass, their per-layer
 * findings are cached with the walk, and the context builder hands them to the
 * checks as `facts` (keyed by scanner name). Their checks are ordinary `Check`
 * objects (ids `VCH-SC-…`, `VCH-CF-…`) that read `ctx.facts[name]`; they are
 * added to the registry with `registry.register(...)` (see registry.ts).
 */
import type { ImageAnalysis } from '../layers/image-analysis.js';
import type { MergedFilesystem, MergedNode } from '../layers/filesystem.js';
import type { LayerWalk } from '../layers/types.js';
import type { AttachedSbom, AttachedScan, SkippedAttachment } from '../packages/attached.js';
import type { PackageInventory } from '../packages/types.js';
import type { FileIndex } from '../diff/image.js';
import type { ChainReport } from '../trust/chain.js';
import type { ResolvedPolicy } from './policy.js';
import type { ScanReport } from './scans.js';

export const STEPS = ['traceability', 'provenance', 'least-privilege', 'dependency-control', 'compliance'] as const;
export type Step = (typeof STEPS)[number];

/** Most severe first. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Rank for comparisons: critical 4 … info 0. */
export function severityRank(s: Severity): number {
  return SEVERITIES.length - 1 - SEVERITIES.indexOf(s);
}

/** True when `s` is at or above `threshold`. */
export function atLeast(s: Severity, threshold: Severity): boolean {
  return severityRank(s) >= severityRank(threshold);
}

export function isSeverity(v: unknown): v is Severity {
  return typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v);
}

/** The layer a finding is about: its blob digest (null for a history entry that made no layer) and the history line (redacted). */
export interface LayerSubject {
  /** Index among the image's layers; null for history entries without a layer (ENV, USER, …). */
  index: number | null;
  digest: string | null;
  /** The `created_by` history line, secrets redacted, or null when the image has no history for it. */
  createdBy: string | null;
}

export interface PackageSubject {
  name: string;
  version: string;
  type: string;
  purl: string;
}

export interface SignatureSubject {
  kind: string;
  /** Position among the image's signatures (as `vouch chain` lists them), from 1. */
  index: number;
  /** Key fingerprint for key signers. */
  keyId: string | null;
  /** Certificate identity for keyless signers. */
  identity: string | null;
  issuer: string | null;
  /** Why it does not count (trust reason code). */
  reason: string;
}

/** What a result is about. Every key is present; null when it does not apply. */
export interface Subject {
  /** `name@digest` of the image. */
  image: string;
  layer: LayerSubject | null;
  /** Absolute path in the image filesystem. */
  path: string | null;
  /** Environment variable name (never its value). */
  env: string | null;
  package: PackageSubject | null;
  signature: SignatureSubject | null;
}

/** A check's finding: the subject parts it names (image is filled in by the runner) and one sentence. */
export interface Finding {
  subject?: Partial<Omit<Subject, 'image'>>;
  /** One sentence; must never contain an env value or a secret (use redact helpers). */
  message: string;
  /** Overrides the check's severity for this finding (e.g. a scan finding's own severity); a policy severity still wins. */
  severity?: Severity;
}

/** A check passes with a note (e.g. "not applicable: no --baseline"). */
export interface Pass {
  pass: string;
}

export type CheckOutput = Finding[] | Pass;

export interface CheckHelp {
  /** What the check looks for. */
  what: string;
  /** Why it matters. */
  why: string;
  /** How to fix it. */
  fix: string;
}

export interface Check {
  /** Stable id, `VCH-XX-NNN`. Never reused for another meaning. */
  id: string;
  title: string;
  step: Step;
  defaultSeverity: Severity;
  /** CIS Docker Benchmark recommendation number(s), e.g. "4.1". */
  cis?: string;
  help: CheckHelp;
  run(ctx: CheckContext): CheckOutput;
}

/** The image being checked, as results name it. */
export interface ImageIdentity {
  /** The reference as given / resolved (`oci:/dir:tag`, `docker://…`). */
  reference: string;
  name: string;
  /** Manifest digest. */
  digest: string;
  /** `name@digest`: what `subject.image` says. */
  label: string;
}

/**
 * Extra facts for checks that need file contents, produced by content
 * scanners during the layer pass and cached with it. Keys are scanner names;
 * values are whatever that scanner documents. Known keys used by the built-in
 * checks when present:
 * - `passwd`: users from /etc/passwd (`{name, uid, gid}[]`): lets VCH-LP-001
 *   resolve a USER given by name to uid 0.
 */
export interface CheckFacts {
  passwd?: ReadonlyArray<{ name: string; uid: number; gid: number }>;
  [scanner: string]: unknown;
}

/** The SBOMs and scans attached to the image (src/core/packages/attached.ts), and those not used with why. */
export interface AttachedInputs {
  sboms: readonly AttachedSbom[];
  scans: readonly AttachedScan[];
  skipped: readonly SkippedAttachment[];
}

/** What the context is built from (all optional but the analysis and walks). */
export interface CheckInputs {
  image: ImageIdentity;
  analysis: ImageAnalysis;
  walks: readonly LayerWalk[];
  /** The merged filesystem; computed from the walks when absent. */
  merged?: MergedFilesystem;
  /** The catalogue; null when not catalogued. */
  inventory?: PackageInventory | null;
  /** The verified chain; null when it could not be discovered (e.g. a daemon image). */
  chain?: ChainReport | null;
  /** `warning`: the baseline approval record approved another image (approval record paired by its only image). */
  baseline?: { label: string; inventory: PackageInventory; files?: FileIndex; warning?: string } | null;
  /** An SBOM given with --sbom. */
  sbom?: { path: string; inventory: PackageInventory } | null;
  scans?: readonly ScanReport[];
  /** What is attached to the image; null when attachments were not read (a daemon image, no chain discovery). */
  attached?: AttachedInputs | null;
  facts?: CheckFacts;
  policy: ResolvedPolicy;
  /** Clock for scan ages and exception expiry (tests fix it). */
  now?: Date;
  /** `--show-secrets`: history lines are not redacted. */
  showSecrets?: boolean;
}

/** Everything a check reads. Built once per image (buildContext); checks must not do I/O. */
export interface CheckContext {
  image: ImageIdentity;
  analysis: ImageAnalysis;
  walks: readonly LayerWalk[];
  merged: MergedFilesystem;
  /** The merged filesystem as an array (sorted by path), for fast scans. */
  files: ReadonlyArray<readonly [string, MergedNode]>;
  inventory: PackageInventory | null;
  chain: ChainReport | null;
  /** `files`: the baseline image's final filesystem (absent when the baseline is an SBOM). */
  baseline: { label: string; inventory: PackageInventory; files?: FileIndex } | null;
  sbom: { path: string; inventory: PackageInventory } | null;
  scans: readonly ScanReport[];
  attached: AttachedInputs | null;
  facts: CheckFacts;
  policy: ResolvedPolicy;
  now: Date;
  /** The layer subject for a layer index (history line redacted). */
  layer(index: number): LayerSubject;
  /** Layer subjects for every history entry (empty-layer entries have digest null), in history order. */
  history: readonly LayerSubject[];
}

/** One result, exactly as `vouch check --format json` prints it. */
export interface CheckResult {
  id: string;
  step: Step;
  severity: Severity;
  status: 'fail' | 'pass' | 'excepted';
  subject: Subject;
  message: string;
  exception: AppliedException | null;
}

export interface AppliedException {
  check: string;
  subject: string;
  reason: string;
  expires: string;
  /** True when the exception's date has passed: it no longer applies (status stays "fail"). */
  expired: boolean;
}

/** `vouch check --format json`, exactly. */
export interface BaselineSummary {
  kind: string;
  input: string;
  label: string;
  approval: { path: string; digest: string; release: { name: string; version: string }; decision: string; reviewer: string; reviewedAt: string; expiresAt: string | null; images: string[] } | null;
}

export interface CheckResultSet {
  policy: { digest: string };
  /** The trust file (null: none) and trusted root the signatures were verified with; null when trust was not consulted. */
  trust: { file: string | null; implicit: boolean; trustedRoot: string } | null;
  results: CheckResult[];
  /** What the run itself has to say: policy exceptions that matched nothing (a typo, or a finding fixed since). */
  warnings: string[];
  /**
   * What `--baseline` was (null: none): its kind, the input as given, a label, and for an approval record the
   * release, decision, reviewer and reviewedAt of the record (only a live approval is accepted as a baseline).
   */
  baseline?: BaselineSummary | null;
  /**
   * Each image checked, in order, with where its analysis came from: the same `cache` object `inspect --json`
   * prints (hit, analysedAt, verifiedAt, verification), null when the analysis carries none.
   */
  images?: Array<{ reference: string; digest: string; cache: CacheInfo | null }>;
}
