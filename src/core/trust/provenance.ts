/**
 * SLSA provenance (v0.2 and v1) read out of a verified in-toto statement:
 * builder, build type, source repository and commit, trigger, run, times.
 * Every value is a string from someone else's document: kept as data, never
 * interpreted beyond finding it.
 */
import type { InTotoStatement } from './attestation.js';

export const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';
export const SLSA_V1 = 'https://slsa.dev/provenance/v1';

export interface Provenance {
  slsaVersion: '0.2' | '1';
  builder: string | null;
  buildType: string | null;
  sourceRepository: string | null;
  sourceRevision: string | null;
  sourceRef: string | null;
  trigger: string | null;
  /** Invocation id or run URL. */
  buildRun: string | null;
  startedOn: string | null;
  finishedOn: string | null;
}

export function isSlsaProvenance(predicateType: string | null | undefined): boolean {
  return predicateType === SLSA_V02 || predicateType === SLSA_V1 || predicateType === 'https://slsa.dev/provenance/v0.1';
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** `git+https://github.com/o/r@refs/heads/main` → repository URL and ref. */
export function splitSourceUri(uri: string): { repository: string; ref: string | null } {
  const s = uri.replace(/^git\+/, '');
  // The ref follows the first '@' after the host's path begins (user@host in the authority is not a ref).
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]+\/[^@]*)@(.+)$/i.exec(s);
  if (m) return { repository: m[1]!, ref: m[2]! };
  const ref: string | null = null;
  return { repository: s, ref };
}

function commitOf(digest: unknown): string | null {
  if (typeof digest !== 'object' || digest === null) return null;
  const d = digest as Record<string, unknown>;
  return str(d['gitCommit']) ?? str(d['sha1']) ?? str(d['sha256']) ?? null;
}

function firstGitSource(list: unknown): { uri: string; digest?: unknown } | undefined {
  if (!Array.isArray(list)) return undefined;
  const items = list.filter((m): m is { uri: string; digest?: unknown } => typeof m?.uri === 'string');
  return items.find((m) => /^git\+|\.git(@|$)|github\.com|gitlab/.test(m.uri)) ?? items[0];
}

export function readProvenance(st: InTotoStatement): Provenance | null {
  const p = st.predicate as any;
  if (typeof p !== 'object' || p === null) return null;
  if (st.predicateType === SLSA_V1) {
    const def = p.buildDefinition ?? {};
    const run = p.runDetails ?? {};
    const ext = def.externalParameters ?? {};
    const wf = ext.workflow ?? {};
    const dep = firstGitSource(def.resolvedDependencies);
    const fromDep = dep ? splitSourceUri(dep.uri) : undefined;
    const gh = def.internalParameters?.github ?? {};
    return {
      slsaVersion: '1',
      builder: str(run.builder?.id),
      buildType: str(def.buildType),
      sourceRepository: str(wf.repository) ?? fromDep?.repository ?? str(ext.source?.uri) ?? null,
      sourceRevision: (dep ? commitOf(dep.digest) : null) ?? commitOf(ext.source?.digest),
      sourceRef: str(wf.ref) ?? fromDep?.ref ?? null,
      trigger: str(gh.event_name) ?? str(ext.trigger) ?? null,
      buildRun: str(run.metadata?.invocationId),
      startedOn: str(run.metadata?.startedOn),
      finishedOn: str(run.metadata?.finishedOn),
    };
  }
  if (st.predicateType === SLSA_V02 || st.predicateType === 'https://slsa.dev/provenance/v0.1') {
    const inv = p.invocation ?? {};
    const cfg = inv.configSource ?? {};
    const mat = firstGitSource(p.materials);
    const fromCfg = str(cfg.uri) ? splitSourceUri(cfg.uri) : undefined;
    const fromMat = mat ? splitSourceUri(mat.uri) : undefined;
    const env = inv.environment ?? {};
    return {
      slsaVersion: '0.2',
      builder: str(p.builder?.id),
      buildType: str(p.buildType),
      sourceRepository: fromCfg?.repository ?? fromMat?.repository ?? null,
      sourceRevision: commitOf(cfg.digest) ?? (mat ? commitOf(mat.digest) : null),
      sourceRef: fromCfg?.ref ?? fromMat?.ref ?? str(env.github_ref) ?? null,
      trigger: str(env.github_event_name) ?? null,
      buildRun: str(p.metadata?.buildInvocationId) ?? runUrlFromEnv(env),
      startedOn: str(p.metadata?.buildStartedOn),
      finishedOn: str(p.metadata?.buildFinishedOn),
    };
  }
  return null;
}

function runUrlFromEnv(env: any): string | null {
  const server = str(env.github_server_url) ?? 'https://github.com';
  const repo = str(env.github_repository);
  const id = str(env.github_run_id);
  if (!repo || !id) return null;
  const attempt = str(env.github_run_attempt);
  return `${server}/${repo}/actions/runs/${id}${attempt ? `/attempts/${attempt}` : ''}`;
}
