/**
 * One entry point from a reference string to an Image. A bare argument is
 * resolved as a developer expects: an existing path is a layout or an archive
 * (detected by content), otherwise the local Docker daemon if it is reachable
 * and has that image, otherwise the registry. The caller is always told which
 * source was used.
 */
import { resolve as resolvePath } from 'node:path';
import { VouchError } from '../errors.js';
import { formatPlatform, platformMatches } from '../oci/manifest.js';
import { parseDockerReference, parseReference, formatDockerReference } from '../ref/parse.js';
import type { ImageReference } from '../ref/types.js';
import type { Image, OpenOptions } from './image.js';
import { detectArchiveKind, openDockerArchive, openLayout, openOciArchive } from './archive.js';
import { openRegistryImage } from './registry/source.js';
import { daemonHasImage, openDaemonImage } from './daemon.js';
import { pathExists } from '../util/fs.js';
import { describeNonImageFile } from '../util/file-kind.js';

export interface Resolution {
  /** How a bare argument was resolved, for the user ("path is an OCI layout", "found in the Docker daemon"...). */
  how: string;
  reference: ImageReference;
}


/** Resolve a bare argument to a concrete transport, without opening the image. */
export async function resolveReference(input: string, opts: OpenOptions = {}): Promise<Resolution> {
  const parsed = parseReference(input);
  if (parsed.transport !== 'auto') return { how: `transport ${parsed.transport}`, reference: parsed };
  const looksLikePath = input.startsWith('/') || input.startsWith('./') || input.startsWith('../') || input === '.' || input.endsWith('.tar');
  if (await pathExists(input)) {
    const kind = await detectArchiveKind(input);
    const path = resolvePath(input);
    if (kind === 'oci') return { how: 'path is an OCI image layout', reference: { transport: 'oci', path } };
    if (kind === 'oci-archive') return { how: 'path is an OCI archive', reference: { transport: 'oci-archive', path } };
    if (kind === 'docker-archive') return { how: 'path is a docker-archive (docker save)', reference: { transport: 'docker-archive', path } };
    // Say what the file is when it is recognisably something else (empty, truncated, XML, UTF-16…).
    const what = await describeNonImageFile(input);
    // The specific reason alone: appending the generic one read as a second, contradicting diagnosis.
    throw new VouchError('INVALID_ARCHIVE', `${input}: ${what ?? 'not an OCI layout, OCI archive or docker-archive (no index.json or manifest.json)'}`);
  }
  if (looksLikePath) throw new VouchError('NOT_FOUND', `${input}: no such file or directory`);
  const ref = parseDockerReference(input);
  const name = formatDockerReference(ref);
  // daemonHasImage pings first (short timeout) and never throws: an absent daemon is a plain no.
  if (!ref.digest && (await daemonHasImage(name, opts))) {
    return { how: 'found in the local Docker daemon', reference: { transport: 'docker-daemon', name } };
  }
  return { how: `not a path${ref.digest ? '' : ' nor in the Docker daemon'}: pulling from the registry`, reference: { transport: 'docker', ref } };
}

export async function openReference(reference: ImageReference, opts: OpenOptions = {}): Promise<Image> {
  const image = await openAny(reference, opts);
  // An index is filtered by --platform; a lone manifest must still be of the platform asked for.
  if (opts.platform && !image.index && !platformMatches(opts.platform, image.platform)) {
    await image.close();
    throw new VouchError('PLATFORM_NOT_FOUND', `${image.reference}: the image is ${formatPlatform(image.platform)}, not the requested ${formatPlatform(opts.platform)}`);
  }
  return image;
}

async function openAny(reference: ImageReference, opts: OpenOptions): Promise<Image> {
  switch (reference.transport) {
    case 'docker':
      return openRegistryImage(reference.ref, opts);
    case 'oci':
      return openLayout(reference.path, selector(reference), opts);
    case 'oci-archive':
      return openOciArchive(reference.path, selector(reference), opts);
    case 'docker-archive':
      return openDockerArchive(reference.path, reference.tag === undefined ? {} : { tag: reference.tag }, opts);
    case 'docker-daemon':
      return openDaemonImage(reference.name, opts);
    case 'auto':
      return (await openImage(reference.input, opts)).image;
  }
}

function selector(r: { tag?: string; digest?: string }): { tag?: string; digest?: string } {
  const s: { tag?: string; digest?: string } = {};
  if (r.tag !== undefined) s.tag = r.tag;
  if (r.digest !== undefined) s.digest = r.digest;
  return s;
}

/** Resolve and open; returns the image and how the reference was resolved. */
export async function openImage(input: string, opts: OpenOptions = {}): Promise<{ image: Image; resolution: Resolution }> {
  const resolution = await resolveReference(input, opts);
  const image = await openReference(resolution.reference, opts);
  return { image, resolution };
}
