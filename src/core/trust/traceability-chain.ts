/**
 * Traceability per image: the source repository, the commit and the CI run,
 * each with every place it was found (image annotations and labels, SLSA
 * provenance, Fulcio certificate extensions) and whether those places agree.
 * Disagreement is reported, never resolved: `value` is the first source's
 * value in a fixed order (provenance, certificate, image), and `consistent`
 * says whether the others say the same.
 */
import type { Traceability } from '../oci/traceability.js';
import type { Provenance } from './provenance.js';
import type { FulcioExtensions } from './types.js';

export type TraceSource = 'provenance' | 'certificate' | 'manifest-annotation' | 'index-annotation' | 'config-label';

export interface TracedField {
  value: string | null;
  sources: Array<{ value: string; from: TraceSource }>;
  consistent: boolean;
}

export interface ChainTraceability {
  repository: TracedField;
  revision: TracedField;
  run: TracedField;
  consistent: boolean;
}

export function normaliseRepository(v: string): string {
  let s = v.trim().replace(/^git\+/, '').replace(/^git@github\.com:/, 'https://github.com/');
  s = s.replace(/^http:\/\//, 'https://').replace(/\/+$/, '').replace(/\.git$/, '');
  return s.toLowerCase();
}

function normaliseRun(v: string): string {
  // A GitHub run URL with or without its attempt names the same run.
  return v.trim().replace(/\/attempts\/\d+$/, '').replace(/\/+$/, '').toLowerCase();
}

function field(sources: Array<{ value: string | null | undefined; from: TraceSource }>, norm: (v: string) => string): TracedField {
  const found = sources.filter((s): s is { value: string; from: TraceSource } => typeof s.value === 'string' && s.value.length > 0);
  const distinct = new Set(found.map((s) => norm(s.value)));
  return { value: found[0]?.value ?? null, sources: found, consistent: distinct.size <= 1 };
}

export function chainTraceability(image: Traceability, provenance: Provenance | null, certs: FulcioExtensions[]): ChainTraceability {
  const imageSources = (key: string): Array<{ value: string; from: TraceSource }> => (image.evidence[key] ?? []).map((e) => ({ value: e.value, from: e.from }));
  const certRepo = certs.map((c) => ({ value: c.sourceRepositoryUri ?? (c.githubWorkflowRepository ? `https://github.com/${c.githubWorkflowRepository}` : undefined), from: 'certificate' as const }));
  const certRev = certs.map((c) => ({ value: c.sourceRepositoryDigest ?? c.githubWorkflowSha, from: 'certificate' as const }));
  const certRun = certs.map((c) => ({ value: c.runInvocationUri, from: 'certificate' as const }));
  const repository = field([{ value: provenance?.sourceRepository, from: 'provenance' }, ...certRepo, ...imageSources('org.opencontainers.image.source')], normaliseRepository);
  const revision = field([{ value: provenance?.sourceRevision, from: 'provenance' }, ...certRev, ...imageSources('org.opencontainers.image.revision')], (v) => v.trim().toLowerCase());
  const run = field([{ value: provenance?.buildRun, from: 'provenance' }, ...certRun], normaliseRun);
  return { repository, revision, run, consistent: repository.consistent && revision.consistent && run.consistent };
}
