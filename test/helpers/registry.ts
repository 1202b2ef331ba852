/**
 * A real registry (CNCF distribution 2.8, Debian's `docker-registry`) for
 * integration tests. CI starts two and says where through the environment
 * (VOUCH_TEST_REGISTRY, and VOUCH_TEST_REGISTRY_AUTH with _USER / _PASSWORD);
 * locally we start our own on a free 127.0.0.1 port with a temp config and
 * storage. When the binary is missing, startRegistry resolves undefined so the
 * test can skip with a reason, except under CI=true where it throws: CI must
 * never pass by skipping.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface TestRegistry {
  /** host:port, e.g. "127.0.0.1:5000". */
  host: string;
  user?: string;
  password?: string;
  stop(): Promise<void>;
}

export const inCI = (): boolean => process.env['CI'] === 'true';

/** The first executable named `name` on PATH. */
export function which(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

/** Why a registry cannot be had here, or undefined when it can. */
export function registryUnavailable(opts: { auth?: boolean } = {}): string | undefined {
  if (opts.auth ? process.env['VOUCH_TEST_REGISTRY_AUTH'] : process.env['VOUCH_TEST_REGISTRY']) return undefined;
  if (!which('docker-registry') && !which('registry')) return 'docker-registry not installed (apt-get install docker-registry)';
  if (opts.auth && !which('htpasswd')) return 'htpasswd not installed (apt-get install apache2-utils)';
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(host: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`registry exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`http://${host}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`registry on ${host} not ready after ${timeoutMs} ms`);
}

function fail(reason: string): never {
  throw new Error(`registry needed under CI=true but unavailable: ${reason}`);
}

export async function startRegistry(opts: { auth?: boolean } = {}): Promise<TestRegistry | undefined> {
  const env = process.env;
  if (opts.auth && env['VOUCH_TEST_REGISTRY_AUTH']) {
    const user = env['VOUCH_TEST_REGISTRY_USER'];
    const password = env['VOUCH_TEST_REGISTRY_PASSWORD'];
    if (!user || !password) fail('VOUCH_TEST_REGISTRY_AUTH is set without VOUCH_TEST_REGISTRY_USER / VOUCH_TEST_REGISTRY_PASSWORD');
    return { host: env['VOUCH_TEST_REGISTRY_AUTH'], user, password, stop: async () => {} };
  }
  if (!opts.auth && env['VOUCH_TEST_REGISTRY']) return { host: env['VOUCH_TEST_REGISTRY'], stop: async () => {} };

  const missing = registryUnavailable(opts);
  if (missing) {
    if (inCI()) fail(missing);
    return undefined;
  }
  const binary = which('docker-registry') ?? which('registry')!;
  const dir = await mkdtemp(join(tmpdir(), 'vouch-registry-'));
  let user: string | undefined;
  let password: string | undefined;
  if (opts.auth) {
    user = 'vouch';
    password = randomBytes(12).toString('hex');
    const r = spawnSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' });
    if (r.status !== 0) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`htpasswd failed: ${r.stderr}`);
    }
    await writeFile(join(dir, 'htpasswd'), r.stdout);
  }
  let lastError: unknown;
  // A free port can be taken between our probe and the registry's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      `  secret: ${randomBytes(16).toString('hex')}`,
      ...(opts.auth ? ['auth:', '  htpasswd:', '    realm: vouch-test', `    path: ${join(dir, 'htpasswd')}`] : []),
      '',
    ].join('\n');
    const configPath = join(dir, `config-${attempt}.yml`);
    await writeFile(configPath, config);
    const child = spawn(binary, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => {
      if (stderr.length < 4000) stderr += b.toString();
    });
    try {
      await waitReady(host, child, 15_000);
    } catch (e) {
      lastError = new Error(`${(e as Error).message}: ${stderr.trim().slice(0, 500)}`);
      child.kill('SIGKILL');
      continue;
    }
    // If the test process dies without calling stop(), do not leave a registry behind.
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    const stop = async (): Promise<void> => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    };
    return { host, ...(user ? { user, password: password! } : {}), stop };
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}
