/**
 * A digest vouch synthesised (a docker-archive that stores no manifest, a
 * daemon image re-exported) is no registry digest: signatures, attestations
 * and attached SBOMs are looked up by the registry digest, so "none found"
 * for it is not a verdict. Every command that reports trust says so.
 */
export function synthesisedDigestCaveat(image: { transport: string; digest: string; synthesizedManifest: boolean }): string | null {
  if (!image.synthesizedManifest && image.transport !== 'docker-daemon') return null;
  const where = image.transport === 'docker-daemon' ? 'the Docker daemon keeps no registry manifest for it' : 'the archive stores no manifest';
  return `the digest ${image.digest} is synthesised by vouch (${where}): signatures and attestations are looked up by the registry digest, so none found here is not a verdict; check the pushed image by its registry digest (docker://REPO@sha256:…, docker inspect's RepoDigests)`;
}
