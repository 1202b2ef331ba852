/**
 * Platform matching for indexes / manifest lists, with docker's (containerd's)
 * normalisation rules. Kept local to the registry source for now; the OCI
 * manifest module grows similar helpers and the two will be merged.
 */
import { arch as osArch, endianness } from 'node:os';
import { VouchError } from '../../errors.js';
import { isImageManifestMediaType, isIndexMediaType } from '../../oci/mediatypes.js';
import type { Descriptor, Platform } from '../../oci/types.js';
import { sanitizeLine } from '../../util/sanitize.js';

/** Normalised form: lower case, arch aliases resolved, variant always explicit where docker has a default. */
export interface NormalizedPlatform {
  os: string;
  architecture: string;
  variant: string;
}

/** The default variant docker assumes when an architecture is given without one. */
const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', arm: 'v7', amd64: 'v1' };

export function normalizePlatform(p: Platform): NormalizedPlatform {
  let os = (p.os ?? '').toLowerCase();
  let architecture = (p.architecture ?? '').toLowerCase();
  let variant = (p.variant ?? '').toLowerCase();
  if (os === 'macos') os = 'darwin';
  switch (architecture) {
    case 'i386':
    case 'i686':
      architecture = '386';
      break;
    case 'x86_64':
    case 'x86-64':
      architecture = 'amd64';
      break;
    case 'aarch64':
      architecture = 'arm64';
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
  }
  // containerd accepts "8" for "v8", "8.0" for "v8" etc.
  if (/^\d+(\.0)?$/.test(variant)) variant = `v${variant.replace(/\.0$/, '')}`;
  if (variant === 'v8.0') variant = 'v8';
  if (variant === '') variant = DEFAULT_VARIANT[architecture] ?? '';
  return { os, architecture, variant };
}

export function formatPlatform(p: Platform): string {
  const parts = [p.os, p.architecture];
  if (p.variant) parts.push(p.variant);
  return parts.map((s) => sanitizeLine(String(s ?? '?'))).join('/');
}

/** Parses `os/arch[/variant]` as `docker --platform` does ("linux/arm64/v8"). */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !/^[A-Za-z0-9._-]+$/.test(x))) {
    throw new VouchError('USAGE', `invalid platform ${JSON.stringify(s.slice(0, 60))}: expected os/arch[/variant], e.g. linux/arm64/v8`);
  }
  const p: Platform = { os: parts[0]!.toLowerCase(), architecture: parts[1]!.toLowerCase() };
  if (parts[2]) p.variant = parts[2].toLowerCase();
  return p;
}

/**
 * The platform docker would pull for on this machine. Container images are
 * Linux images even on macOS / Windows hosts (Docker Desktop runs a Linux VM),
 * so the os is always linux.
 */
export function hostPlatform(): Platform {
  const a = osArch();
  switch (a) {
    case 'x64':
      return { os: 'linux', architecture: 'amd64' };
    case 'arm64':
      return { os: 'linux', architecture: 'arm64', variant: 'v8' };
    case 'arm': {
      const v = (process.config.variables as Record<string, unknown>)['arm_version'];
      return { os: 'linux', architecture: 'arm', variant: typeof v === 'string' || typeof v === 'number' ? `v${v}` : 'v7' };
    }
    case 'ia32':
      return { os: 'linux', architecture: '386' };
    case 'ppc64':
      return { os: 'linux', architecture: endianness() === 'LE' ? 'ppc64le' : 'ppc64' };
    default:
      return { os: 'linux', architecture: a };
  }
}

/**
 * How well `have` serves `want`: 0 is an exact match, higher is a worse but
 * acceptable fallback, undefined is no match. The only fallbacks are docker's
 * for 32-bit arm (a v7 machine runs v6 and v5 images).
 */
export function platformScore(want: Platform, have: Platform): number | undefined {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return undefined;
  if (w.variant === h.variant) return 0;
  if (w.architecture === 'arm') {
    const wv = Number(w.variant.slice(1));
    const hv = Number(h.variant.slice(1));
    if (Number.isInteger(wv) && Number.isInteger(hv) && hv < wv && hv >= 5) return wv - hv;
  }
  return undefined;
}

export function platformMatches(want: Platform, have: Platform): boolean {
  return platformScore(want, have) !== undefined;
}

/** Entries that are not runnable images: buildkit attestation manifests (`unknown/unknown`), foreign media types. */
function isSelectable(d: Descriptor): boolean {
  if (!isImageManifestMediaType(d.mediaType) && !isIndexMediaType(d.mediaType)) return false;
  if (d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') return false;
  const p = d.platform;
  if (p && p.os === 'unknown' && p.architecture === 'unknown') return false;
  return true;
}

/**
 * Picks the descriptor for `want` from an index's manifests: the best score
 * wins, the first listed wins a tie (docker takes the first match). Throws
 * PLATFORM_NOT_FOUND listing what the index offers.
 */
export function selectPlatform(manifests: readonly Descriptor[], want: Platform, what: string): Descriptor {
  let best: { d: Descriptor; score: number } | undefined;
  for (const d of manifests) {
    if (!isSelectable(d) || !d.platform) continue;
    const score = platformScore(want, d.platform);
    if (score !== undefined && (best === undefined || score < best.score)) best = { d, score };
  }
  if (best) return best.d;
  const available = manifests.filter((d) => isSelectable(d) && d.platform).map((d) => formatPlatform(d.platform!));
  throw new VouchError(
    'PLATFORM_NOT_FOUND',
    `${what}: no image for platform ${formatPlatform(want)}; available: ${available.length ? [...new Set(available)].join(', ') : 'none'}`,
  );
}
