/**
 * Registry credentials the way the docker CLI finds them: `$DOCKER_CONFIG/config.json`
 * or `~/.docker/config.json`, with `credHelpers[host]`, `auths[host]` and
 * `credsStore` (through `docker-credential-<name> get`).
 *
 * Lookups are lazy (only when a registry asks for authentication) and never
 * fatal: a missing helper or an unreadable file is recorded as a `problem` and
 * the request goes on anonymously, so public images still work; if the
 * registry then refuses, the UNAUTHORIZED message carries the problem.
 * Nothing here logs, and no message ever contains a secret.
 */
import { spawn } from 'node:child_process';
import { LOCAL_FILE_LIMITS, LocalFileError, readLocalFile } from '../../util/local-file.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sanitizeLine } from '../../util/sanitize.js';
import { isDockerHub } from './endpoint.js';

export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (`identitytoken`; helpers return it with Username "<token>"). */
  identityToken?: string;
  /** A bearer token sent to the registry as is (`registrytoken`). */
  registryToken?: string;
}

export interface CredentialLookup {
  credentials?: RegistryCredentials;
  /**
   * Which credentials were tried, for messages; never a secret. E.g.
   * "credentials from ~/.docker/config.json (auths)", "no credentials for
   * ghcr.io in ~/.docker/config.json".
   */
  source: string;
  /** What went wrong while looking (missing helper, unreadable file); the request went on anonymously. */
  problem?: string;
}

/** Finds credentials for a registry name as references spell it ("docker.io", "127.0.0.1:5000"). */
export type CredentialProvider = (registry: string) => Promise<CredentialLookup>;

export function anonymousCredentials(): CredentialProvider {
  return async () => ({ source: 'no credentials (anonymous)' });
}

export function staticCredentials(credentials: RegistryCredentials, source = 'credentials given explicitly'): CredentialProvider {
  return async () => ({ credentials, source });
}

export interface DockerConfigOptions {
  /** Directory holding config.json; default $DOCKER_CONFIG or ~/.docker. */
  configDir?: string;
  /** Environment for DOCKER_CONFIG, HOME and the helpers' PATH; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** A helper that hangs is killed after this long. */
  helperTimeoutMs?: number;
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
  registrytoken?: unknown;
}

interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The server address docker uses for Docker Hub in config.json and with helpers. */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

/** Strips a scheme and a path as docker's convertToHostname does ("https://ghcr.io/v2/" → "ghcr.io"). */
export function configKeyHost(key: string): string {
  return key.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
}

function keyMatches(key: string, registry: string): boolean {
  const host = configKeyHost(key);
  if (isDockerHub(registry)) return isDockerHub(host);
  return host === registry.toLowerCase();
}

/** Keys of a config map that name `registry`, exact spellings first. */
function matchingKeys(map: Record<string, unknown> | undefined, registry: string): string[] {
  if (!map || typeof map !== 'object') return [];
  const preferred = isDockerHub(registry) ? [DOCKER_HUB_CONFIG_KEY, 'index.docker.io', 'docker.io'] : [registry];
  const keys = Object.keys(map).filter((k) => keyMatches(k, registry));
  return keys.sort((a, b) => rank(a) - rank(b));
  function rank(k: string): number {
    const i = preferred.indexOf(k);
    return i < 0 ? preferred.length : i;
  }
}

/** "~/.docker/config.json" when under the home directory, else the full path (no secrets either way). */
export function displayPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = env['HOME'] || homedir();
  return home && path.startsWith(home + '/') ? `~/${path.slice(home.length + 1)}` : path;
}

export function dockerConfigPath(opts: DockerConfigOptions = {}): string {
  const env = opts.env ?? process.env;
  const dir = opts.configDir ?? (env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker'));
  return join(dir, 'config.json');
}

/** Decodes an `auths[].auth` value (base64 "user:password"). */
export function decodeAuthField(auth: string): { username: string; password: string } | undefined {
  const decoded = Buffer.from(auth.trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i <= 0) return undefined;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

function fromAuthEntry(e: AuthEntry): RegistryCredentials | undefined {
  const c: RegistryCredentials = {};
  if (typeof e.auth === 'string' && e.auth !== '') {
    const up = decodeAuthField(e.auth);
    if (!up) return undefined;
    c.username = up.username;
    c.password = up.password;
  } else if (typeof e.username === 'string' && e.username !== '') {
    c.username = e.username;
    if (typeof e.password === 'string') c.password = e.password;
  }
  if (typeof e.identitytoken === 'string' && e.identitytoken !== '') c.identityToken = e.identitytoken;
  if (typeof e.registrytoken === 'string' && e.registrytoken !== '') c.registryToken = e.registrytoken;
  return Object.keys(c).length ? c : undefined;
}

export class CredentialHelperError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialHelperError';
  }
}

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Runs `docker-credential-<name> get` with the server address on stdin.
 * Resolves undefined when the helper has nothing for that server; rejects with
 * CredentialHelperError (no secret in the message) when it is missing or fails.
 */
export function runCredentialHelper(
  name: string,
  serverAddress: string,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${name}`;
  if (!HELPER_NAME.test(name)) return Promise.reject(new CredentialHelperError(`invalid credential helper name ${JSON.stringify(sanitizeLine(name.slice(0, 60)))}`));
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new CredentialHelperError(`${program} did not answer within ${Math.round((opts.timeoutMs ?? 30_000) / 1000)}s`)));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(() =>
        reject(new CredentialHelperError(e.code === 'ENOENT' ? `credential helper ${program} not found on PATH` : `cannot run ${program}: ${e.code ?? e.message}`)),
      );
    });
    child.stdout.on('data', (b: Buffer) => {
      outLen += b.length;
      if (outLen <= 1 << 20) out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 16) err.push(b);
    });
    child.stdin.on('error', () => {
      /* the helper may exit before reading stdin; 'close' reports it */
    });
    child.stdin.end(serverAddress + '\n');
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      if (code !== 0) {
        // docker's helpers print this exact phrase when they simply have nothing stored.
        const text = `${stdout}\n${Buffer.concat(err).toString('utf8')}`;
        if (/credentials not found/i.test(text)) return finish(() => resolve(undefined));
        const firstLine = sanitizeLine((text.trim().split('\n')[0] ?? '').slice(0, 160));
        return finish(() => reject(new CredentialHelperError(`${program} get failed (exit ${code})${firstLine ? `: ${firstLine}` : ''}`)));
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(stdout);
      } catch {
        return finish(() => reject(new CredentialHelperError(`${program} get printed something that is not JSON`)));
      }
      const p = parsed as { Username?: unknown; Secret?: unknown };
      if (typeof p.Secret !== 'string' || p.Secret === '') return finish(() => resolve(undefined));
      const username = typeof p.Username === 'string' ? p.Username : '';
      // "<token>" is docker's marker for an identity (refresh) token.
      finish(() => resolve(username === '<token>' ? { identityToken: p.Secret as string } : { username, password: p.Secret as string }));
    });
  });
}

/**
 * Credentials from the docker config file. Order: `credHelpers[host]`, then an
 * `auths` entry that carries a secret, then `credsStore`. (docker itself lets
 * credsStore shadow auths; we prefer a secret written in the file because it
 * can only have been put there on purpose, e.g. by CI.)
 */
export function dockerConfigCredentials(opts: DockerConfigOptions = {}): CredentialProvider {
  const env = opts.env ?? process.env;
  const path = dockerConfigPath(opts);
  const shown = displayPath(path, env);
  return async (registry) => {
    let text: string;
    try {
      text = (await readLocalFile(path, { what: 'docker config', max: LOCAL_FILE_LIMITS.dockerConfig })).toString('utf8');
    } catch (e) {
      const code = (e as LocalFileError).reason;
      if (code === 'ENOENT') return { source: `no credentials for ${registry} (${shown} does not exist)` };
      return { source: `no credentials for ${registry}`, problem: `cannot read ${shown}: ${code ?? 'error'}` };
    }
    let config: DockerConfigFile;
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      config = parsed as DockerConfigFile;
    } catch {
      return { source: `no credentials for ${registry}`, problem: `${shown} is not valid JSON` };
    }
    const serverAddress = isDockerHub(registry) ? DOCKER_HUB_CONFIG_KEY : registry;

    const helperKey = matchingKeys(config.credHelpers, registry)[0];
    const helper = helperKey !== undefined ? config.credHelpers?.[helperKey] : undefined;
    if (typeof helper === 'string' && helper !== '') {
      return viaHelper(helper, `credHelpers in ${shown}`, helperKey === undefined ? serverAddress : helperKey);
    }

    for (const key of matchingKeys(config.auths, registry)) {
      const entry = config.auths?.[key];
      if (!entry || typeof entry !== 'object') continue;
      if (typeof entry.auth === 'string' && entry.auth !== '' && !decodeAuthField(entry.auth)) {
        return { source: `no usable credentials for ${registry}`, problem: `auths["${sanitizeLine(key.slice(0, 80))}"].auth in ${shown} is not base64 "user:password"` };
      }
      const creds = fromAuthEntry(entry);
      if (creds) return { credentials: creds, source: `credentials for ${sanitizeLine(key.slice(0, 80))} from ${shown} (auths)` };
    }

    if (typeof config.credsStore === 'string' && config.credsStore !== '') {
      return viaHelper(config.credsStore, `credsStore in ${shown}`, serverAddress);
    }
    return { source: `no credentials for ${registry} in ${shown}` };
  };

  async function viaHelper(name: string, where: string, address: string): Promise<CredentialLookup> {
    const label = `docker-credential-${sanitizeLine(name.slice(0, 60))}`;
    try {
      const credentials = await runCredentialHelper(name, address, { env, ...(opts.helperTimeoutMs ? { timeoutMs: opts.helperTimeoutMs } : {}) });
      if (!credentials) return { source: `no credentials for ${sanitizeLine(address)} in ${label} (${where})` };
      return { credentials, source: `credentials from ${label} (${where})` };
    } catch (e) {
      return { source: `no credentials (${label} from ${where} failed)`, problem: e instanceof Error ? e.message : String(e) };
    }
  }
}
