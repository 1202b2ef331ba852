/**
 * What a simple-signing payload's `critical.identity.docker-reference` must say
 * for the image being verified, as containers-image's `signedIdentity` does
 * (containers-policy.json(5)). A signature made for `acme/debug-tools` and
 * copied with its `.sig` into `acme/app` verifies cryptographically; this is
 * what refuses it. Names are compared after docker's normalisation
 * (`busybox` = `docker.io/library/busybox`).
 */
import { parseDockerReference } from '../ref/parse.js';
import type { DockerReference } from '../ref/types.js';

export type SignedIdentityRule =
  | { type: 'matchRepository' }
  | { type: 'matchExact' }
  | { type: 'matchRepoDigestOrExact' }
  | { type: 'exactReference'; dockerReference: string }
  | { type: 'exactRepository'; dockerRepository: string }
  | { type: 'remapIdentity'; prefix: string; signedPrefix: string };

export const SIGNED_IDENTITY_TYPES = ['matchRepository', 'matchExact', 'matchRepoDigestOrExact', 'exactReference', 'exactRepository', 'remapIdentity'] as const;

/** vouch's default: the signature's repository must be the one verified; tags may differ. */
export const DEFAULT_SIGNED_IDENTITY: SignedIdentityRule = { type: 'matchRepository' };

interface Named {
  /** registry/repository, normalised. */
  repository: string;
  /** The normalised reference with its tag or digest (digest wins), or undefined when the text names only a repository. */
  exact: string | undefined;
}

/** A docker name, normalised; a sentence when it is not one. */
export function namedReference(text: string): Named | string {
  let ref: DockerReference;
  try {
    ref = parseDockerReference(text);
  } catch {
    return `${JSON.stringify(text.slice(0, 120))} is not a docker reference`;
  }
  // parseDockerReference adds :latest to a bare name; a name-only identity has no exact form.
  const lastSlash = text.lastIndexOf('/');
  const nameOnly = !text.includes('@') && !text.slice(lastSlash + 1).includes(':');
  return { repository: `${ref.registry}/${ref.repository}`, exact: nameOnly ? undefined : exactOf(ref) };
}

function exactOf(ref: DockerReference): string {
  return ref.digest ? `${ref.registry}/${ref.repository}@${ref.digest}` : `${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}`;
}

/** Check a rule's own fields (trust-file load time); a sentence when they are unusable. */
export function ruleProblem(rule: SignedIdentityRule): string | undefined {
  if (rule.type === 'exactReference') {
    const n = namedReference(rule.dockerReference);
    if (typeof n === 'string') return `signedIdentity.dockerReference: ${n}`;
    if (!n.exact) return 'signedIdentity.dockerReference must name a tag or a digest (exactReference)';
  }
  if (rule.type === 'exactRepository') {
    const n = namedReference(rule.dockerRepository);
    if (typeof n === 'string') return `signedIdentity.dockerRepository: ${n}`;
    if (n.exact && /[:@]/.test(rule.dockerRepository.slice(rule.dockerRepository.lastIndexOf('/') + 1))) return 'signedIdentity.dockerRepository must be a repository without tag or digest';
  }
  if (rule.type === 'remapIdentity') {
    for (const k of ['prefix', 'signedPrefix'] as const) {
      if (!/^[a-z0-9.-]+(?::[0-9]+)?(?:\/[a-z0-9._-]+)*$/.test(rule[k])) return `signedIdentity.${k} must be host[:port] or host[:port]/namespace…, got ${JSON.stringify(rule[k].slice(0, 80))}`;
    }
  }
  return undefined;
}

export type IdentityOutcome = { ok: true; checked: boolean } | { ok: false; message: string };

/**
 * Does `signed` (the payload's docker-reference) satisfy `rule` for the image
 * named `image` (the reference as the user gave it; null for a source without
 * a registry name: a layout or an archive)?
 */
export function checkSignedIdentity(rule: SignedIdentityRule, image: DockerReference | null, signed: string | undefined): IdentityOutcome {
  if (signed === undefined) return { ok: false, message: 'the signed payload names no critical.identity.docker-reference' };
  const s = namedReference(signed);
  if (typeof s === 'string') return { ok: false, message: `the signed identity ${s}` };
  const shown = JSON.stringify(signed.slice(0, 160));
  if (rule.type === 'exactReference') {
    const want = namedReference(rule.dockerReference) as Named;
    return s.exact !== undefined && s.exact === want.exact ? { ok: true, checked: true } : { ok: false, message: `the signature was made for ${shown}, not ${JSON.stringify(rule.dockerReference)} (exactReference)` };
  }
  if (rule.type === 'exactRepository') {
    const want = namedReference(rule.dockerRepository) as Named;
    return s.repository === want.repository ? { ok: true, checked: true } : { ok: false, message: `the signature was made for ${shown}, not repository ${JSON.stringify(rule.dockerRepository)} (exactRepository)` };
  }
  if (!image) {
    // No registry name to compare with (a layout or an archive): matchRepository cannot be decided, the exact rules refuse as containers-image does.
    return rule.type === 'matchRepository' ? { ok: true, checked: false } : { ok: false, message: `the image has no registry name to compare the signed identity ${shown} with (${rule.type})` };
  }
  let imageRepo = `${image.registry}/${image.repository}`;
  let imageExact = exactOf(image);
  if (rule.type === 'remapIdentity') {
    // The image's name under `prefix` is what was signed under `signedPrefix` (a mirror); component boundaries only.
    if (imageExact.startsWith(rule.prefix) && /^[/:@]/.test(imageExact.slice(rule.prefix.length))) {
      const remapped = namedReference(rule.signedPrefix + imageExact.slice(rule.prefix.length));
      if (typeof remapped === 'string') return { ok: false, message: `remapIdentity: ${remapped}` };
      imageRepo = remapped.repository;
      imageExact = remapped.exact ?? imageExact;
    }
  }
  switch (rule.type) {
    case 'matchRepository':
      return s.repository === imageRepo ? { ok: true, checked: true } : { ok: false, message: `the signature was made for ${shown}, another repository than ${imageRepo}` };
    case 'matchExact':
      return s.exact !== undefined && s.exact === imageExact ? { ok: true, checked: true } : { ok: false, message: `the signature was made for ${shown}, not exactly ${imageExact} (matchExact)` };
    case 'matchRepoDigestOrExact':
    case 'remapIdentity':
      // A digest identity: any signature in the repository names it; a tag identity: exactly.
      if (imageExact.includes('@')) {
        return s.repository === imageRepo ? { ok: true, checked: true } : { ok: false, message: `the signature was made for ${shown}, another repository than ${imageRepo}` };
      }
      return s.exact !== undefined && s.exact === imageExact ? { ok: true, checked: true } : { ok: false, message: `the signature was made for ${shown}, not exactly ${imageExact} (${rule.type})` };
  }
}
