/**
 * Traceability basics from what the image itself says: OCI annotations on the
 * manifest (and the index it was picked from) and labels in the config. Where
 * both speak and disagree, the disagreement is reported, never resolved.
 */
import type { ImageConfig, ImageManifest } from './types.js';

export const Annotation = {
  Source: 'org.opencontainers.image.source',
  Revision: 'org.opencontainers.image.revision',
  Created: 'org.opencontainers.image.created',
  Version: 'org.opencontainers.image.version',
  Url: 'org.opencontainers.image.url',
  BaseName: 'org.opencontainers.image.base.name',
  BaseDigest: 'org.opencontainers.image.base.digest',
  RefName: 'org.opencontainers.image.ref.name',
} as const;

export type TraceOrigin = 'manifest-annotation' | 'index-annotation' | 'config-label';

export interface TracedValue {
  value: string;
  from: TraceOrigin;
}

export interface Traceability {
  repository: string | null;
  revision: string | null;
  created: string | null;
  version: string | null;
  baseName: string | null;
  baseDigest: string | null;
  /** Every place each key was found, so later steps can show where a value came from. */
  evidence: Record<string, TracedValue[]>;
  /** Keys whose sources disagree. */
  conflicts: string[];
}

const KEYS: Array<[keyof Omit<Traceability, 'evidence' | 'conflicts'>, string]> = [
  ['repository', Annotation.Source],
  ['revision', Annotation.Revision],
  ['created', Annotation.Created],
  ['version', Annotation.Version],
  ['baseName', Annotation.BaseName],
  ['baseDigest', Annotation.BaseDigest],
];

export function traceability(manifest: ImageManifest, config: ImageConfig, indexAnnotations?: Record<string, string>): Traceability {
  const labels = config.config?.Labels ?? {};
  const out: Traceability = { repository: null, revision: null, created: null, version: null, baseName: null, baseDigest: null, evidence: {}, conflicts: [] };
  for (const [field, key] of KEYS) {
    const found: TracedValue[] = [];
    const add = (v: unknown, from: TraceOrigin): void => {
      if (typeof v === 'string' && v.length > 0) found.push({ value: v, from });
    };
    add(manifest.annotations?.[key], 'manifest-annotation');
    add(indexAnnotations?.[key], 'index-annotation');
    add(labels[key], 'config-label');
    if (found.length === 0) continue;
    out.evidence[key] = found;
    out[field] = found[0]!.value;
    if (new Set(found.map((f) => normalise(field, f.value))).size > 1) out.conflicts.push(key);
  }
  return out;
}

function normalise(field: string, v: string): string {
  if (field === 'repository') return v.replace(/\.git$/, '').replace(/\/+$/, '').toLowerCase();
  return v;
}
