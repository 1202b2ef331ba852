/**
 * Where a registry name (as written in a reference) is reached, and over what.
 * TLS always, except loopback hosts and hosts the user explicitly listed as
 * insecure: plain HTTP to anything else would hand credentials and manifests
 * to whoever sits on the network.
 */
import { isIP } from 'node:net';

/** docker.io is a name, not a host: the API lives on registry-1.docker.io. */
const DOCKER_HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

export function isDockerHub(registry: string): boolean {
  return DOCKER_HUB_NAMES.has(registry.toLowerCase());
}

/** Splits "host:port", "[::1]:5000", "host" into the host (without brackets) and the port. */
export function splitHostPort(hostport: string): { host: string; port?: string } {
  const s = hostport.trim();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return { host: s };
    const rest = s.slice(end + 1);
    return { host: s.slice(1, end), ...(rest.startsWith(':') ? { port: rest.slice(1) } : {}) };
  }
  const i = s.lastIndexOf(':');
  // A bare IPv6 address without brackets has several colons and no port.
  if (i < 0 || s.indexOf(':') !== i) return { host: s };
  return { host: s.slice(0, i), port: s.slice(i + 1) };
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

/** Normalises an --insecure-registry entry: drops a scheme and a trailing path. */
function insecureEntry(e: string): string {
  return e.trim().toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
}

/** True when `hostport` may be reached over plain HTTP. An entry without a port covers every port of that host. */
export function allowsPlainHttp(hostport: string, insecureRegistries: readonly string[] = []): boolean {
  const { host } = splitHostPort(hostport);
  if (isLoopbackHost(host)) return true;
  const hp = hostport.toLowerCase();
  return insecureRegistries.some((raw) => {
    const e = insecureEntry(raw);
    if (e === hp) return true;
    const parsed = splitHostPort(e);
    return parsed.port === undefined && parsed.host === host.toLowerCase();
  });
}

/** The base URL ("https://registry-1.docker.io") for a registry name as references spell it. */
export function registryBaseUrl(registry: string, insecureRegistries: readonly string[] = []): URL {
  const host = isDockerHub(registry) ? DOCKER_HUB_API_HOST : registry;
  const scheme = allowsPlainHttp(host, insecureRegistries) ? 'http' : 'https';
  return new URL(`${scheme}://${host}`);
}
