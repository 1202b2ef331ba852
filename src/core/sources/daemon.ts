/**
 * The Docker daemon as an image source, through dockerode. DOCKER_HOST is
 * honoured by dockerode's modem (unix://PATH, tcp://HOST:PORT, ssh://, with
 * DOCKER_TLS_VERIFY / DOCKER_CERT_PATH); Podman's socket speaks the same API.
 *
 * The daemon has no manifest to hand out, so the bytes come from the export
 * (`GET /images/{id}/get`, what `docker save` streams): it is written to a
 * private temporary file and read as a docker-archive, which verifies every
 * blob against its digest. The image is exported by the ID that inspect
 * returned, so a tag moved in between cannot swap the bytes; the export's
 * config digest must then equal that ID and its diff_ids the daemon's
 * RootFS.Layers.
 */
import { createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
// dockerode (and ssh2 under it) costs ~0.25 s to load: load it only when a daemon is actually used.
import type Dockerode from 'dockerode';
import { VouchError, errorLine } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import { sweepDeadTempDirs } from '../util/dead-temps.js';
import type { Image, OpenOptions } from './image.js';
import { openDockerArchive } from './archive.js';

export interface DaemonOptions extends OpenOptions {
  /** A ready client (tests, Podman, a remote engine); default: dockerode's, from DOCKER_HOST. */
  docker?: Dockerode;
  /** How long the daemon may take to answer the ping. Default 5000 ms (2000 ms for isDaemonReachable). */
  timeoutMs?: number;
}

/** One line of `docker history`, as the daemon reports it. */
export interface DaemonHistoryEntry {
  id: string;
  created: number;
  createdBy: string;
  size: number;
  tags: string[];
  comment: string;
}

/** What the daemon says about the image besides its bytes. */
export interface DaemonInfo {
  /** The endpoint that answered (unix:///var/run/docker.sock, tcp://host:2375...). */
  endpoint: string;
  /** Image ID (the config digest on the classic image store). */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  /** RootFS.Layers: the diff_ids. */
  layers: string[];
  history: DaemonHistoryEntry[];
  /** The private temporary file (0600) holding the export while the image is open; removed by close(). */
  exportFile: string;
}

export interface DaemonImage extends Image {
  readonly daemon: DaemonInfo;
}

/** Names a daemon accepts: references, IDs and short IDs. Anything else would be spliced into a URL path. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;

function checkName(name: string): void {
  if (name.length === 0 || name.length > 512 || !NAME.test(name)) {
    throw new VouchError('INVALID_REFERENCE', `docker-daemon: invalid image name ${JSON.stringify(sanitizeLine(name.slice(0, 200)))}`);
  }
}

/** A dockerode client configured from the environment (DOCKER_HOST...). A malformed DOCKER_HOST is a DAEMON_ERROR. */
export async function dockerClient(opts: { docker?: Dockerode } = {}): Promise<Dockerode> {
  if (opts.docker) return opts.docker;
  const { default: DockerodeCtor } = await import('dockerode');
  try {
    return new DockerodeCtor();
  } catch (e) {
    throw new VouchError('DAEMON_ERROR', `cannot reach the Docker daemon at ${sanitizeLine(process.env.DOCKER_HOST ?? '')}: ${errorLine(e)}`, { cause: e });
  }
}

interface ModemLike {
  socketPath?: string | (() => string | Promise<string>);
  getSocketPath?: () => Promise<string> | undefined;
  host?: string;
  port?: string | number;
  protocol?: string;
}

/** Where the client connects, the way docker writes it: unix:///var/run/docker.sock, tcp://127.0.0.1:2375, ssh://host. */
export async function daemonEndpoint(docker: Dockerode): Promise<string> {
  const modem = docker.modem as ModemLike;
  try {
    if (modem.socketPath) {
      const p = modem.getSocketPath ? await modem.getSocketPath() : typeof modem.socketPath === 'string' ? modem.socketPath : await modem.socketPath();
      if (p) return sanitizeLine(p.startsWith('//./pipe/') ? `npipe://${p}` : `unix://${p}`);
    }
    if (modem.host) {
      const scheme = modem.protocol === 'ssh' ? 'ssh' : modem.protocol === 'https' ? 'tcp+tls' : 'tcp';
      return sanitizeLine(`${scheme}://${modem.host}${modem.port ? `:${modem.port}` : ''}`);
    }
  } catch {
    /* fall through */
  }
  return sanitizeLine(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock');
}

/** A short, one-line reason for a failed request to the daemon. */
function reason(e: unknown, timeoutMs: number): string {
  const err = e as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } };
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  switch (err?.code) {
    case 'ENOENT':
      return 'no such socket (is dockerd or `podman system service` running? DOCKER_HOST selects another daemon)';
    case 'ECONNREFUSED':
      return 'connection refused (is the daemon running?)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (add the user to the docker group, or use a rootless socket via DOCKER_HOST)';
    case 'ETIMEDOUT':
      return `connection timed out`;
  }
  if (typeof err?.statusCode === 'number') {
    const m = typeof err.json?.message === 'string' ? errorLine(err.json.message).slice(0, 300) : '';
    return `it answered HTTP ${err.statusCode}${m ? `: ${m}` : ' (is this a Docker API endpoint?)'}`;
  }
  return errorLine(e);
}

function daemonError(endpoint: string, e: unknown, timeoutMs: number): VouchError {
  return new VouchError('DAEMON_ERROR', `cannot reach the Docker daemon at ${endpoint}: ${reason(e, timeoutMs)}`, { cause: e });
}

/** dockerode's ping takes an abortSignal option its typings do not declare. */
function ping(docker: Dockerode, abortSignal: AbortSignal): Promise<unknown> {
  return (docker as unknown as { ping(o: { abortSignal: AbortSignal }): Promise<unknown> }).ping({ abortSignal });
}

function combinedSignal(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([t, signal]) : t;
}

async function pingOrThrow(docker: Dockerode, endpoint: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  try {
    await ping(docker, combinedSignal(timeoutMs, signal));
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw daemonError(endpoint, e, timeoutMs);
  }
}

/** True when a daemon answers the ping within `timeoutMs` (default 2 s). Never throws. */
export async function isDaemonReachable(opts: DaemonOptions = {}): Promise<boolean> {
  try {
    const docker = await dockerClient(opts);
    await ping(docker, combinedSignal(opts.timeoutMs ?? 2000, opts.signal));
    return true;
  } catch {
    return false;
  }
}

/** True when the daemon answers and has an image of that name (reference or ID). Never throws. */
export async function daemonHasImage(name: string, opts: DaemonOptions = {}): Promise<boolean> {
  return (await daemonImageId(name, opts)) !== undefined;
}

/**
 * The image ID (config digest) the daemon has for `name`, without exporting
 * anything: content-addressed, so a cached analysis can be found by it.
 * Undefined when the daemon is unreachable or has no such image.
 */
export async function daemonImageId(name: string, opts: DaemonOptions = {}): Promise<string | undefined> {
  try {
    checkName(name);
    const docker = await dockerClient(opts);
    await pingOrThrow(docker, '', opts.timeoutMs ?? 2000, opts.signal);
    const id = (await docker.getImage(name).inspect()).Id;
    return typeof id === 'string' && /^sha256:[a-f0-9]{64}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Temp dirs not yet removed: cleaned up synchronously if the process exits without close(). */
const liveTempDirs = new Set<string>();
let exitHookInstalled = false;
function trackTempDir(dir: string): void {
  liveTempDirs.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const d of liveTempDirs) rmSync(d, { recursive: true, force: true });
    });
  }
}
async function removeTempDir(dir: string): Promise<void> {
  liveTempDirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Streams the export (docker save) of `target` into `file` (0600) and opens it as a docker-archive. */
async function exportAndOpen(target: Dockerode.Image, file: string, what: string, endpoint: string, timeoutMs: number, opts: OpenOptions): Promise<Image> {
  let exported: Readable;
  try {
    exported = (await target.get()) as unknown as Readable;
  } catch (e) {
    throw daemonError(endpoint, e, timeoutMs);
  }
  try {
    await pipeline(exported, createWriteStream(file, { flags: 'wx', mode: 0o600 }), ...(opts.signal ? [{ signal: opts.signal }] : []));
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new VouchError('DAEMON_ERROR', `${what}: the export from ${endpoint} failed: ${errorLine(e)}`, { cause: e });
  }
  return openDockerArchive(file, {}, opts);
}

/**
 * Opens an image held by the Docker (or Podman) daemon: inspect, history, then
 * the export streamed to a private temporary file (0600, under os.tmpdir(),
 * removed by close() and on failure) and read as a docker-archive.
 *
 * Errors: DAEMON_ERROR when the daemon cannot be reached ("cannot reach the Docker
 * daemon at unix:///…: …"); NOT_FOUND when it has no such image;
 * DIGEST_MISMATCH when the export is not the image inspect described.
 */
export async function openDaemonImage(name: string, opts: DaemonOptions = {}): Promise<DaemonImage> {
  checkName(name);
  const shown = sanitizeLine(name);
  const docker = await dockerClient(opts);
  const endpoint = await daemonEndpoint(docker);
  const timeoutMs = opts.timeoutMs ?? 5000;
  await pingOrThrow(docker, endpoint, timeoutMs, opts.signal);

  let inspect: Dockerode.ImageInspectInfo;
  try {
    inspect = await docker.getImage(name).inspect();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) {
      throw new VouchError('NOT_FOUND', `docker-daemon:${shown}: no such image in the Docker daemon at ${endpoint}`, { cause: e });
    }
    throw daemonError(endpoint, e, timeoutMs);
  }
  const id = inspect.Id;
  if (typeof id !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(id)) {
    throw new VouchError('DAEMON_ERROR', `docker-daemon:${shown}: the daemon at ${endpoint} reported a malformed image ID ${JSON.stringify(sanitizeLine(String(id)).slice(0, 100))}`);
  }
  const target = docker.getImage(id);

  let history: DaemonHistoryEntry[] = [];
  try {
    const raw = (await target.history()) as Array<Record<string, unknown>>;
    history = (Array.isArray(raw) ? raw : []).map((h) => ({
      id: String(h.Id ?? ''),
      created: Number(h.Created ?? 0),
      createdBy: String(h.CreatedBy ?? ''),
      size: Number(h.Size ?? 0),
      tags: Array.isArray(h.Tags) ? h.Tags.map(String) : [],
      comment: String(h.Comment ?? ''),
    }));
  } catch (e) {
    throw daemonError(endpoint, e, timeoutMs);
  }

  // Named by PID: exports of vouch processes that were killed (no exit hook runs on SIGKILL) are removed here.
  await sweepDeadTempDirs(tmpdir(), 'vouch-daemon-');
  const dir = await mkdtemp(join(tmpdir(), `vouch-daemon-${process.pid}-`));
  trackTempDir(dir);
  let a: Image;
  try {
    a = await exportAndOpen(target, join(dir, 'image.tar'), `docker-daemon:${shown}`, endpoint, timeoutMs, opts);
    // Classic image store: ID = config digest. containerd image store (Docker 25+ with
    // the containerd snapshotter): ID = the manifest or index digest.
    const mismatch =
      id !== a.configDigest && id !== a.digest && id !== a.index?.digest
        ? `image ID ${id}, exported config ${a.configDigest}`
        : (inspect.RootFS?.Layers ?? []).length > 0 && !sameList(inspect.RootFS.Layers ?? [], a.config.rootfs.diff_ids)
          ? `the daemon's RootFS.Layers (${(inspect.RootFS.Layers ?? []).length}) differ from the exported diff_ids (${a.config.rootfs.diff_ids.length})`
          : undefined;
    if (mismatch) {
      await a.close().catch(() => undefined);
      throw new VouchError('DIGEST_MISMATCH', `docker-daemon:${shown}: the export is not the inspected image: ${mismatch}`);
    }
  } catch (e) {
    await removeTempDir(dir);
    throw e;
  }

  let closed = false;
  const image: DaemonImage = {
    transport: 'docker-daemon',
    reference: `docker-daemon:${name}`,
    name,
    digest: a.digest,
    synthesizedManifest: a.synthesizedManifest,
    mediaType: a.mediaType,
    manifestBytes: a.manifestBytes,
    manifest: a.manifest,
    configDigest: a.configDigest,
    configBytes: a.configBytes,
    config: a.config,
    platform: a.platform,
    ...(a.index ? { index: a.index } : {}),
    layers: a.layers,
    daemon: {
      endpoint,
      id,
      repoTags: inspect.RepoTags ?? [],
      repoDigests: inspect.RepoDigests ?? [],
      layers: inspect.RootFS?.Layers ?? [],
      history,
      exportFile: join(dir, 'image.tar'),
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        await a.close();
      } finally {
        await removeTempDir(dir);
      }
    },
  };
  return image;
}
