/** The image an SBOM describes, from the reference it was opened by (repository, tag) and its manifest digest. */
import { basename } from 'node:path';
import { parseDockerReference, parseReference } from '../../ref/parse.js';
import type { DockerReference } from '../../ref/types.js';
import type { ImageSubject } from './writer-common.js';

export interface SubjectImage {
  reference: string;
  name: string;
  digest: string;
  platform?: { architecture: string };
  /** True when `digest` is of a manifest vouch synthesised (daemon, legacy archive): no registry has it. */
  synthesizedManifest?: boolean;
  /** The daemon's RepoDigests (`registry/repo@sha256:…`, Docker Hub ones short: `alpine@sha256:…`). */
  repoDigests?: readonly string[];
}

/** The registry manifest digest the daemon recorded for this repository when it pulled the image, if any. */
function repoDigestFor(docker: DockerReference, repoDigests: readonly string[]): string | undefined {
  for (const rd of repoDigests) {
    try {
      const r = parseDockerReference(rd);
      if (r.digest && r.registry === docker.registry && r.repository === docker.repository) return r.digest;
    } catch {
      /* not a reference: skip */
    }
  }
  return undefined;
}

export function imageSubject(image: SubjectImage): ImageSubject {
  let docker: DockerReference | null = null;
  let tag: string | undefined;
  let local: string | null = null;
  try {
    const r = parseReference(image.reference);
    if (r.transport === 'docker') docker = r.ref;
    else if (r.transport === 'docker-daemon') docker = parseDockerReference(r.name);
    else if (r.transport === 'oci' || r.transport === 'oci-archive' || r.transport === 'docker-archive') {
      local = basename(r.path.replace(/\/+$/, '')) || r.path;
      tag = r.tag;
    }
  } catch {
    /* a reference we cannot parse: the name alone */
  }
  const arch = image.platform?.architecture;
  if (docker) {
    const repo = docker.repository;
    const name = repo.slice(repo.lastIndexOf('/') + 1);
    const tagged = { ...(docker.tag ? { tag: docker.tag } : {}), ...(arch ? { arch } : {}) };
    if (!image.synthesizedManifest) return { repository: `${docker.registry}/${repo}`, name, digest: image.digest, ...tagged };
    // A synthesised digest next to repository_url would name a manifest the registry does not have:
    // use the digest the daemon recorded when it pulled from this repository, else name no repository.
    const pulled = repoDigestFor(docker, image.repoDigests ?? []);
    return pulled ? { repository: `${docker.registry}/${repo}`, name, digest: pulled, ...tagged } : { repository: null, name, digest: image.digest, ...tagged };
  }
  return { repository: null, name: local ?? image.name.replace(/[:@].*$/, ''), digest: image.digest, ...(tag ? { tag } : {}), ...(arch ? { arch } : {}) };
}
