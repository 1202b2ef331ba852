/**
 * A daemon image has no registry manifest, so its digest is synthesised and
 * signatures cannot be found by it. When the daemon recorded a RepoDigest for
 * the repository named, the registry image at that digest is the one to
 * verify — but only if it is the same image: its config digest must equal the
 * daemon copy's, otherwise the daemon holds something else under that name.
 */
import { VouchError } from '../errors.js';
import { formatDockerReference, parseDockerReference } from '../ref/parse.js';
import type { DockerReference } from '../ref/types.js';
import type { Image, OpenOptions } from '../sources/image.js';
import { dockerClient, type DaemonImage, type DaemonOptions } from '../sources/daemon.js';
import { openRegistryImage } from '../sources/registry/source.js';
import { sanitizeLine } from '../util/sanitize.js';

/** The registry reference (repo@digest) the daemon recorded for the repository `name` names, if any. */
export function repoDigestFor(name: string, repoDigests: string[]): DockerReference | null {
  const wanted = parseDockerReference(name);
  for (const rd of repoDigests) {
    let r: DockerReference;
    try {
      r = parseDockerReference(rd);
    } catch {
      continue; // the daemon's own strings; one we cannot parse names no registry we could ask
    }
    if (r.digest && r.registry === wanted.registry && r.repository === wanted.repository) return { registry: r.registry, repository: r.repository, digest: r.digest };
  }
  return null;
}

/**
 * The registry image the daemon copy came from, opened by its repo digest and
 * confirmed by config digest; null when the daemon recorded no repo digest for
 * that repository (the synthesised-digest caveat then stays). The caller closes it.
 */
export async function registryTwinOf(image: Image, opts: OpenOptions): Promise<{ image: Image; ref: DockerReference; note: string } | null> {
  if (image.transport !== 'docker-daemon' || !('daemon' in image)) return null;
  const d = image as DaemonImage;
  const ref = repoDigestFor(d.name, d.daemon.repoDigests);
  if (!ref) return null;
  // The daemon copy is one platform: pick the same one if the repo digest is an index.
  const twin = await openRegistryImage(ref, { ...opts, platform: opts.platform ?? image.platform });
  try {
    return { image: twin, ref, note: sameImageOrThrow(image.reference, image.configDigest, ref, twin.configDigest) };
  } catch (e) {
    await twin.close();
    throw e;
  }
}

/** The note when the daemon copy and the registry image share a config digest; otherwise the refusal. */
export function sameImageOrThrow(daemonReference: string, daemonConfig: string, ref: DockerReference, registryConfig: string): string {
  if (registryConfig !== daemonConfig) {
    throw new VouchError(
      'DIGEST_MISMATCH',
      sanitizeLine(`${daemonReference}: the daemon copy is not the registry image ${formatDockerReference(ref)} (config ${daemonConfig} in the daemon, ${registryConfig} in the registry); refusing to report the registry image's signatures for it`),
      { exitCode: 1 },
    );
  }
  return `the Docker daemon's copy (config ${daemonConfig}) was matched by config digest to the registry image ${formatDockerReference(ref)} (the daemon's RepoDigest); signatures were looked up there`;
}

/** The daemon's RepoDigest for the repository `name` names, asked without exporting the image; null when none. */
export async function daemonRepoDigest(name: string, opts: DaemonOptions = {}): Promise<DockerReference | null> {
  const docker = await dockerClient(opts);
  const inspect = await docker.getImage(name).inspect();
  return repoDigestFor(name, inspect.RepoDigests ?? []);
}
