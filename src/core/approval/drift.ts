/**
 * `vouch drift`: what runs on a Docker host that no approval covers. Each
 * running container's image is identified by its repository digest (the
 * manifest digest the registry served, which approvals name); an image the
 * daemon never pulled or pushed has none, and only its image ID (the config
 * digest) can be offered, with a caveat.
 */
import type Dockerode from 'dockerode';
import { VouchError, errorLine } from '../errors.js';
import { formatDockerReference, parseDockerReference } from '../ref/parse.js';
import { sanitizeLine } from '../util/sanitize.js';
import { memoCovers, type Coverage, type CoverageReason, type Covers } from './gate.js';

export interface DriftContainer {
  id: string;
  name: string;
  /** The image as the container was started (a name, or an ID when the tag has moved on). */
  image: string;
  imageId: string;
  /** The digest checked: a repository digest, else the image ID. */
  digest: string | null;
  digestSource: 'repo-digest' | 'image-id' | null;
  ok: boolean;
  decision: string | null;
  release: { name: string; version: string } | null;
  reviewers: Array<{ name: string; identity: string }>;
  reasons: CoverageReason[];
  caveat: string | null;
}

export interface DriftReport {
  ok: boolean;
  /** Where the daemon was reached. */
  host: string;
  containers: DriftContainer[];
}

/** The repository digest that belongs to the name the container was started with, else every one. */
function candidates(started: string, repoDigests: string[]): Array<{ name: string; digest: string }> {
  const parsed = repoDigests.flatMap((rd) => {
    try {
      const r = parseDockerReference(rd);
      return r.digest ? [{ name: formatDockerReference({ registry: r.registry, repository: r.repository }), digest: r.digest }] : [];
    } catch {
      return [];
    }
  });
  let startedName: string | undefined;
  try {
    const r = parseDockerReference(started);
    startedName = formatDockerReference({ registry: r.registry, repository: r.repository });
  } catch {
    /* started by ID */
  }
  const own = parsed.filter((p) => p.name === startedName);
  return [...own, ...parsed.filter((p) => p.name !== startedName)];
}

export async function drift(docker: Dockerode, covers: Covers, host = ''): Promise<DriftReport> {
  let list: Dockerode.ContainerInfo[];
  try {
    list = await docker.listContainers({ all: false });
  } catch (e) {
    throw new VouchError('DAEMON_ERROR', `cannot list containers on the Docker daemon${host ? ` at ${host}` : ''}: ${errorLine(e)}`, { cause: e });
  }
  const check = memoCovers(covers);
  const containers = await Promise.all(
    list.map(async (c): Promise<DriftContainer> => {
      const name = sanitizeLine((c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''));
      const base = { id: c.Id, name, image: sanitizeLine(c.Image), imageId: c.ImageID, decision: null, release: null, reviewers: [], caveat: null };
      let repoDigests: string[];
      try {
        repoDigests = (await docker.getImage(c.ImageID).inspect()).RepoDigests ?? [];
      } catch (e) {
        return { ...base, digest: null, digestSource: null, ok: false, reasons: [{ code: 'IMAGE_UNKNOWN', message: `the daemon cannot inspect image ${c.ImageID}: ${errorLine(e)}` }] };
      }
      const options = candidates(c.Image, repoDigests);
      if (options.length === 0) {
        const caveat = 'the image has no repository digest (built here, never pushed or pulled): its image ID is the config digest, not a manifest digest an approval would normally name';
        const cov = await check({ name: base.image, digest: c.ImageID });
        return { ...base, digest: c.ImageID, digestSource: 'image-id', ok: cov.ok, decision: cov.decision, release: cov.release, reviewers: cov.reviewers, reasons: cov.reasons, caveat };
      }
      // The same image pushed to several repositories has several digests; one covered is enough.
      let first: { option: { name: string; digest: string }; cov: Coverage } | undefined;
      for (const option of options) {
        const cov = await check(option);
        first ??= { option, cov };
        if (cov.ok) return { ...base, digest: option.digest, digestSource: 'repo-digest', ok: true, decision: cov.decision, release: cov.release, reviewers: cov.reviewers, reasons: [] };
      }
      return { ...base, digest: first!.option.digest, digestSource: 'repo-digest', ok: false, decision: first!.cov.decision, release: first!.cov.release, reviewers: [], reasons: first!.cov.reasons };
    }),
  );
  containers.sort((a, b) => a.name.localeCompare(b.name));
  return { ok: containers.every((c) => c.ok), host, containers };
}
