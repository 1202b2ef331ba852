/** Shared by the CycloneDX and SPDX writers: document metadata and timestamps. */
import { createHash, randomUUID } from 'node:crypto';

export interface SbomWriteMeta {
  /** What the document describes: an image reference, a file name. */
  name?: string;
  /** Its version, e.g. the manifest digest. */
  version?: string;
  /** Creation time (default: now). Pass a fixed one for reproducible output. */
  timestamp?: Date | string;
  /** CycloneDX serialNumber UUID / SPDX namespace suffix (default: random). */
  uuid?: string;
  /** SPDX documentNamespace (default: https://vouch.invalid/spdxdocs/NAME-UUID). */
  namespace?: string;
  /** vouch's version, for the tool entries. */
  toolVersion?: string;
}

export function isoSeconds(t: Date | string | undefined): string {
  const d = t === undefined ? new Date() : new Date(t);
  const ok = Number.isFinite(d.getTime()) ? d : new Date();
  return ok.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function uuidOf(meta: SbomWriteMeta): string {
  return meta.uuid && /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(meta.uuid) ? meta.uuid.toLowerCase() : randomUUID();
}

export function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 16);
}
