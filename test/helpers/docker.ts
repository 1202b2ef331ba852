/**
 * Real services for integration tests: the Docker daemon (dockerd), a test
 * image built FROM scratch with busybox-static, and the two local registries
 * (Debian's docker-registry, plain and with htpasswd basic auth).
 *
 * A service that is not running is started here when its binary is installed
 * (and stopped when the test process exits); when it cannot be had, tests skip
 * visibly with the reason, except under CI=true where they fail.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync,
  readdirSync, rmSync, statSync, utimesSync, writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import Dockerode from 'dockerode';

export const isCI = process.env.CI === 'true';

/** Skip the test with a visible reason, or fail it under CI=true (where nothing may skip). */
export function skipOrFail(t: TestContext, reason: string): void {
  if (isCI) throw new Error(`${reason} (CI=true: every service must be available, nothing may skip)`);
  t.skip(reason);
}

/** Absolute path of an executable on PATH (plus the sbin dirs root has), or undefined. */
export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      if (statSync(p).isFile() && (statSync(p).mode & 0o111) !== 0) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ping(docker: Dockerode, timeoutMs: number): Promise<boolean> {
  try {
    await (docker as unknown as { ping(o: { abortSignal: AbortSignal }): Promise<unknown> }).ping({ abortSignal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isDockerd(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dockerd';
  } catch {
    return false;
  }
}

/*
 * A dockerd started by these helpers is shared by the test processes that run
 * at the same time (node --test runs files in parallel): each user leaves a
 * marker; the last one to exit stops the daemon, by the PID recorded when it
 * was started.
 */
const STATE = join(tmpdir(), 'vouch-test-dockerd');
const USERS = join(STATE, 'users');
const OWNER = join(STATE, 'dockerd.pid');
const LOCK = join(STATE, 'start.lock');

function registerDockerdUser(): void {
  mkdirSync(USERS, { recursive: true });
  const me = join(USERS, String(process.pid));
  writeFileSync(me, '');
  process.once('exit', () => {
    rmSync(me, { force: true });
    let others: number[] = [];
    try {
      others = readdirSync(USERS).map(Number).filter((p) => p !== process.pid && alive(p));
    } catch {
      /* gone */
    }
    if (others.length > 0) return;
    try {
      const pid = Number(readFileSync(OWNER, 'utf8'));
      if (pid > 0 && isDockerd(pid)) process.kill(pid, 'SIGTERM');
      rmSync(OWNER, { force: true });
    } catch {
      /* not ours or already gone */
    }
  });
}

/** If the daemon answering is one these helpers started (possibly in a parallel test process), count us as a user. */
function joinHelperDockerd(): void {
  if (!existsSync(OWNER)) return;
  const pid = Number(readFileSync(OWNER, 'utf8'));
  if (pid > 0 && isDockerd(pid)) registerDockerdUser();
  else rmSync(OWNER, { force: true }); // stale: that daemon is gone
}

let dockerPromise: Promise<Dockerode | undefined> | undefined;
let dockerReason = '';

/** Why ensureDocker() returned undefined. */
export function dockerUnavailableReason(): string {
  return dockerReason;
}

/**
 * A client for the running Docker daemon (DOCKER_HOST honoured). When none
 * answers, DOCKER_HOST is unset, we are root and `dockerd` is installed, start
 * one and stop it when the last test process using it exits. Undefined (with
 * dockerUnavailableReason()) when no daemon can be had.
 */
export function ensureDocker(): Promise<Dockerode | undefined> {
  dockerPromise ??= (async () => {
    let docker: Dockerode;
    try {
      docker = new Dockerode();
    } catch (e) {
      dockerReason = `bad DOCKER_HOST: ${(e as Error).message}`;
      return undefined;
    }
    if (await ping(docker, 3000)) {
      joinHelperDockerd();
      return docker;
    }
    const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
    if (process.env.DOCKER_HOST && !/^unix:\/\/\/(var\/)?run\/docker\.sock$/.test(process.env.DOCKER_HOST)) {
      dockerReason = `no Docker daemon answers at ${where} (DOCKER_HOST); not starting one`;
      return undefined;
    }
    const dockerd = which('dockerd');
    if (!dockerd) {
      dockerReason = `no Docker daemon answers at ${where} and dockerd is not installed (apt-get install docker.io)`;
      return undefined;
    }
    if (process.getuid?.() !== 0) {
      dockerReason = `no Docker daemon answers at ${where}; starting dockerd needs root`;
      return undefined;
    }
    mkdirSync(STATE, { recursive: true });
    let locked = false;
    try {
      mkdirSync(LOCK);
      locked = true;
    } catch {
      // Someone else is starting it; a stale lock (owner dead for > 90 s) is taken over.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 90_000) {
          rmSync(LOCK, { recursive: true, force: true });
          mkdirSync(LOCK);
          locked = true;
        }
      } catch {
        /* lost the race: wait below */
      }
    }
    if (locked) {
      try {
        if (!(await ping(docker, 2000))) {
          const log = join(STATE, 'dockerd.log');
          const fd = openSync(log, 'a');
          const child = spawn(dockerd, [], { detached: true, stdio: ['ignore', fd, fd] });
          closeSync(fd);
          child.unref();
          if (child.pid) writeFileSync(OWNER, String(child.pid));
          const deadline = Date.now() + 60_000;
          while (Date.now() < deadline && !(await ping(docker, 2000))) {
            if (child.exitCode !== null) break;
            await sleep(250);
          }
          if (!(await ping(docker, 2000))) {
            dockerReason = `started ${dockerd} but it did not answer within 60 s (log: ${log})`;
            if (child.pid && alive(child.pid)) process.kill(child.pid, 'SIGTERM');
            return undefined;
          }
        }
      } finally {
        rmSync(LOCK, { recursive: true, force: true });
      }
    } else {
      const deadline = Date.now() + 70_000;
      while (Date.now() < deadline && !(await ping(docker, 2000))) await sleep(500);
      if (!(await ping(docker, 2000))) {
        dockerReason = `another test process was starting dockerd, and it did not answer within 70 s`;
        return undefined;
      }
    }
    joinHelperDockerd();
    return docker;
  })();
  return dockerPromise;
}

/** ensureDocker(), skipping the test (failing it under CI=true or VOUCH_TEST_DOCKER=1) when there is no daemon. */
export async function dockerOrSkip(t: TestContext): Promise<Dockerode | undefined> {
  const docker = await ensureDocker();
  if (!docker) {
    const reason = `no Docker daemon: ${dockerUnavailableReason()}`;
    // .ci/run and scripts/services.sh export VOUCH_TEST_DOCKER=1: a daemon was promised.
    if (process.env.VOUCH_TEST_DOCKER === '1') throw new Error(`${reason} (VOUCH_TEST_DOCKER=1)`);
    skipOrFail(t, reason);
  }
  return docker;
}

/** True when the ELF file at `path` has no PT_INTERP header, i.e. is statically linked. */
function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const h = Buffer.alloc(64);
    readSync(fd, h, 0, 64, 0);
    if (h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2 || h[5] !== 1) return false; // ELF64 little-endian only
    const phoff = Number(h.readBigUInt64LE(0x20));
    const phentsize = h.readUInt16LE(0x36);
    const phnum = h.readUInt16LE(0x38);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    closeSync(fd);
  }
}

/** The statically linked busybox (Debian's busybox-static) to copy into FROM-scratch images. */
export function findStaticBusybox(): string | undefined {
  const candidates = [process.env.VOUCH_TEST_BUSYBOX, '/bin/busybox', '/usr/bin/busybox'].filter(Boolean) as string[];
  for (const p of candidates) {
    try {
      if (isStaticElf(p)) return p;
    } catch {
      /* missing or unreadable */
    }
  }
  return undefined;
}

export const TEST_IMAGE_SOURCE = 'https://example.com/vouch/test-image';
export const TEST_IMAGE_REVISION = '0123456789abcdef0123456789abcdef01234567';

/**
 * The test image's Dockerfile. Non-empty layers, in order:
 *  1. /bin/busybox (busybox-static)
 *  2. symlinks /bin/sh, /bin/ls, ... -> busybox
 *  3. the rootfs/ files (etc/vouch-test.conf, app/hello.txt, app/secret.txt, app/config.toml,
 *     app/data.bin, app/cache/old.txt)
 *  4. /app/secret.txt removed (whiteout)
 *  5. /app/config.toml overwritten; /app/cache removed and recreated (opaque dir)
 *  6. /usr/local/bin/suid-helper with mode 4755 (setuid), /app/hello-hard a hard link
 * plus empty layers: LABEL (source/revision), ENV, WORKDIR, USER, CMD.
 */
export const TEST_DOCKERFILE = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "cd /bin && for a in sh ls cat cp rm ln chmod mkdir echo id; do /bin/busybox ln -s busybox $a; done"]
COPY rootfs/ /
RUN rm /app/secret.txt
RUN echo 'mode = "release"' > /app/config.toml && rm -rf /app/cache && mkdir /app/cache && echo fresh > /app/cache/new.txt
RUN mkdir -p /usr/local/bin && echo '#!/bin/sh' > /usr/local/bin/suid-helper && echo 'id' >> /usr/local/bin/suid-helper && chmod 4755 /usr/local/bin/suid-helper && ln /app/hello.txt /app/hello-hard
LABEL org.opencontainers.image.source="${TEST_IMAGE_SOURCE}" org.opencontainers.image.revision="${TEST_IMAGE_REVISION}"
ENV APP_ENV=test
WORKDIR /app
USER 1000:1000
CMD ["/bin/sh"]
`;

export interface BuiltImage {
  /** Image ID as the daemon reports it (sha256:… of the config on the classic image store). */
  id: string;
  tag: string;
}

/** Deterministic pseudo-random bytes (so data.bin is the same on every machine). */
function pseudoRandom(n: number, seed = 0x9e3779b9): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/**
 * Builds the test image with the daemon (classic builder, FROM scratch, no pull)
 * and tags it `tag`. Throws when busybox-static is missing or the build fails.
 */
export async function buildTestImage(docker: Dockerode, tag = 'vouch-test/image:latest'): Promise<BuiltImage> {
  const busybox = findStaticBusybox();
  if (!busybox) throw new Error('no statically linked busybox found (apt-get install busybox-static, or set VOUCH_TEST_BUSYBOX)');
  const ctx = mkdtempSync(join(tmpdir(), 'vouch-build-'));
  try {
    const files: Record<string, string | Buffer> = {
      'Dockerfile': TEST_DOCKERFILE,
      'rootfs/etc/vouch-test.conf': 'answer = 42\n',
      'rootfs/app/hello.txt': 'hello from the vouch test image\n',
      'rootfs/app/secret.txt': 'AWS_SECRET_ACCESS_KEY=not-really-a-secret-but-deleted-later\n',
      'rootfs/app/config.toml': 'mode = "debug"\nverbose = true\n# padding so the overwrite wastes bytes\n' + '#'.repeat(4000) + '\n',
      'rootfs/app/data.bin': pseudoRandom(64 * 1024),
      'rootfs/app/cache/old.txt': 'stale cache entry\n',
    };
    for (const [rel, content] of Object.entries(files)) {
      const p = join(ctx, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content, { mode: 0o644 });
    }
    copyFileSync(busybox, join(ctx, 'busybox'));
    // Fixed mtimes: the same context gives the same layers, and the build cache hits.
    const epoch = new Date('2024-01-01T00:00:00Z');
    const touch = (p: string): void => {
      if (statSync(p).isDirectory()) for (const e of readdirSync(p)) touch(join(p, e));
      utimesSync(p, epoch, epoch);
    };
    touch(join(ctx, 'rootfs'));
    utimesSync(join(ctx, 'busybox'), epoch, epoch);

    const stream = await docker.buildImage({ context: ctx, src: ['Dockerfile', 'busybox', 'rootfs'] }, { t: tag, rm: true, forcerm: true });
    const output: Array<{ stream?: string; error?: string; errorDetail?: { message?: string } }> = await new Promise((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, res: unknown[]) => (err ? reject(err) : resolve(res as never)));
    });
    const failed = output.find((o) => o.error || o.errorDetail);
    if (failed) {
      const log = output.map((o) => o.stream ?? '').join('');
      throw new Error(`docker build of ${tag} failed: ${failed.error ?? failed.errorDetail?.message}\n${log}`);
    }
    const info = await docker.getImage(tag).inspect();
    return { id: info.Id, tag };
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Local registries (Debian's docker-registry = CNCF distribution 2.8)

export interface TestRegistries {
  /** host:port of the registry without auth. */
  plain: string;
  /** host:port of the registry with htpasswd basic auth. */
  auth: string;
  user: string;
  password: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForV2(hostPort: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://${hostPort}/v2/`, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.status === 200 || r.status === 401) return true;
    } catch {
      /* not yet */
    }
    await sleep(150);
  }
  return false;
}

let registriesPromise: Promise<TestRegistries | undefined> | undefined;
let registriesReason = '';

export function registriesUnavailableReason(): string {
  return registriesReason;
}

/**
 * The registries named by VOUCH_TEST_REGISTRY / VOUCH_TEST_REGISTRY_AUTH (+ _USER,
 * _PASSWORD), as .ci/run and scripts/services.sh export them; otherwise two
 * docker-registry processes started here on free loopback ports (stopped at exit)
 * when docker-registry and htpasswd are installed.
 */
export function ensureRegistries(): Promise<TestRegistries | undefined> {
  registriesPromise ??= (async () => {
    const env = process.env;
    if (env.VOUCH_TEST_REGISTRY && env.VOUCH_TEST_REGISTRY_AUTH) {
      return {
        plain: env.VOUCH_TEST_REGISTRY,
        auth: env.VOUCH_TEST_REGISTRY_AUTH,
        user: env.VOUCH_TEST_REGISTRY_USER ?? '',
        password: env.VOUCH_TEST_REGISTRY_PASSWORD ?? '',
      };
    }
    const registry = which('docker-registry');
    const htpasswd = which('htpasswd');
    if (!registry || !htpasswd) {
      registriesReason = `VOUCH_TEST_REGISTRY unset and ${!registry ? 'docker-registry' : 'htpasswd'} not installed (apt-get install docker-registry apache2-utils)`;
      return undefined;
    }
    const dir = mkdtempSync(join(tmpdir(), 'vouch-registries-'));
    const user = 'vouch';
    const password = pseudoRandom(12, (Date.now() ^ process.pid) >>> 0).toString('hex');
    const h = spawnSync(htpasswd, ['-Bbn', user, password], { encoding: 'utf8' });
    if (h.status !== 0) {
      registriesReason = `htpasswd failed: ${h.stderr}`;
      return undefined;
    }
    writeFileSync(join(dir, 'htpasswd'), h.stdout, { mode: 0o600 });
    const children: number[] = [];
    process.once('exit', () => {
      for (const pid of children) if (alive(pid)) process.kill(pid, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    });
    const start = async (name: string, auth: boolean): Promise<string | undefined> => {
      const port = await freePort();
      const cfg = join(dir, `${name}.yml`);
      writeFileSync(cfg, registryConfig(`127.0.0.1:${port}`, join(dir, `${name}-storage`), auth ? join(dir, 'htpasswd') : undefined));
      const log = openSync(join(dir, `${name}.log`), 'a');
      const child = spawn(registry, ['serve', cfg], { stdio: ['ignore', log, log] });
      closeSync(log);
      child.unref();
      if (child.pid) children.push(child.pid);
      return (await waitForV2(`127.0.0.1:${port}`, 15_000)) ? `127.0.0.1:${port}` : undefined;
    };
    const [plain, auth] = await Promise.all([start('plain', false), start('auth', true)]);
    if (!plain || !auth) {
      registriesReason = `docker-registry did not answer on /v2/ within 15 s (logs in ${dir})`;
      return undefined;
    }
    return { plain, auth, user, password };
  })();
  return registriesPromise;
}

/** A distribution 2.8 config: filesystem storage, loopback only, optional htpasswd (bcrypt) auth. */
export function registryConfig(addr: string, storage: string, htpasswdFile?: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${addr}`,
    ...(htpasswdFile ? ['auth:', '  htpasswd:', '    realm: vouch-test', `    path: ${htpasswdFile}`] : []),
    '',
  ].join('\n');
}
