/** Shared by the CycloneDX and SPDX writers: document metadata and timestamps. */
import { createHash, randomUUID } from 'node:crypto';
import { sanitizeLine } from '../../util/sanitize.js';

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
  /** The image the SBOM describes: CycloneDX metadata.component and the SPDX described package name it by repository and digest. */
  image?: ImageSubject;
  /**
   * Caveats about the document that are no gap in the inventory (e.g. a digest vouch synthesised);
   * written beside the inventory's warnings, but they do not make the composition incomplete.
   */
  notes?: string[];
}

/** Property name (CycloneDX metadata.properties) of each inventory warning: what the inventory may be missing. */
export const VOUCH_WARNING_PROPERTY = 'vouch:warning';
/** Property name of each note (SbomWriteMeta.notes). */
export const VOUCH_NOTE_PROPERTY = 'vouch:note';

/**
 * The inventory's warnings and the caller's notes as the document carries them: a pipeline that
 * stores only the SBOM must not lose what stderr said. They quote the image (paths, URLs), so
 * they are made printable here, as on stderr and in `sbom --json`.
 */
export function documentWarnings(inv: { warnings: readonly string[] }, meta: SbomWriteMeta): { warnings: string[]; notes: string[] } {
  return { warnings: inv.warnings.map((w) => sanitizeLine(w)), notes: (meta.notes ?? []).map((n) => sanitizeLine(n)) };
}

/** An image as an SBOM names it (syft's form: a `pkg:oci` purl with the manifest digest). */
export interface ImageSubject {
  /** `registry/repository` when the image has one (registry and daemon images); null for a layout or archive. */
  repository: string | null;
  /** The short name: the repository's last segment, else the layout or archive's own name. */
  name: string;
  /** Manifest digest. */
  digest: string;
  tag?: string;
  arch?: string;
}

const purlValue = (v: string): string => encodeURIComponent(v).replace(/%2F/gi, '/').replace(/%3A/gi, ':');

/**
 * `pkg:oci/NAME@sha256%3AHEX?arch=…&repository_url=…&tag=…` as the purl spec and syft write it
 * (the digest's colon percent-encoded in the version, qualifiers sorted by key).
 */
export function imagePurl(s: ImageSubject): string {
  const q: Array<[string, string]> = [];
  if (s.arch) q.push(['arch', s.arch]);
  if (s.repository) q.push(['repository_url', s.repository]);
  if (s.tag) q.push(['tag', s.tag]);
  const qs = q.map(([k, v]) => `${k}=${purlValue(v)}`).join('&');
  return `pkg:oci/${encodeURIComponent(s.name.toLowerCase())}@${encodeURIComponent(s.digest)}${qs ? `?${qs}` : ''}`;
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
