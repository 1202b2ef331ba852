/**
 * The demo image: a small, deterministic OCI layout that looks like a tiny
 * Debian-based Node.js app image and carries one of everything a review should
 * notice (a setuid binary, a leftover secret added then deleted, overwritten
 * files, whiteouts, an opaque directory, OS and npm packages, traceability
 * labels). Generated once under the caller's cache dir and reused.
 *
 * `DEMO_PLANTED` describes exactly what is in it, computed from the same spec
 * the layers are written from, so tests can assert that an analysis finds
 * exactly that.
 *
 * Determinism: the tar bytes (and so the layer diffIds) depend on nothing but
 * this file. Blob digests also depend on the gzip bytes of the zlib Node ships,
 * which are stable for a given Node build; do not hard-code them across Node
 * versions — compare `DEMO_PLANTED` and the diffIds instead.
 */
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VouchError } from '../errors.js';
import { OciLayoutWriter, REF_NAME_ANNOTATION, verifyLayoutBlobs } from '../oci/layout-writer.js';
import { tarBuffer, type TarEntry } from '../oci/tar-writer.js';
import type { ImageIndex, ImageManifest } from '../oci/types.js';
import type { InefficientFile } from '../layers/efficiency.js';

export const DEMO_TAG = 'demo';
/** Bump whenever the content changes: a different version is generated next to the old one. */
export const DEMO_VERSION = 1;
export const DEMO_VERSION_ANNOTATION = 'dev.vouch.demo.version';

export const DEMO_SOURCE = 'https://github.com/vouch-demo/shop-api';
export const DEMO_REVISION = '4b2f7c1e9a0d3b5f6e8c7a9d1b3e5f7a9c0e2d4f';
export const DEMO_CREATED = '2024-05-01T12:00:00Z';
const MTIME = Date.parse('2024-05-01T11:00:00Z') / 1000;
const GZIP_LEVEL = 9;

// ---------------------------------------------------------------------------
// The spec

type SpecEntry =
  | { type: 'file'; path: string; content: string | Buffer; mode?: number; uid?: number; gid?: number }
  | { type: 'dir'; path: string; mode?: number; uid?: number; gid?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string }
  | { type: 'whiteout'; path: string }
  | { type: 'opaque'; path: string };

interface LayerSpec {
  createdBy: string;
  entries: SpecEntry[];
}

/** Deterministic filler bytes (xorshift32), binary-looking. */
function filler(seed: number, size: number, prefix = ''): Buffer {
  const out = Buffer.alloc(size);
  const head = Buffer.from(prefix, 'latin1');
  head.copy(out, 0, 0, Math.min(head.length, size));
  let x = seed >>> 0 || 1;
  for (let i = head.length; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    // Mostly low bytes: compresses a bit, like real binaries.
    out[i] = (x & 0xff) < 96 ? x >>> 24 : 0;
  }
  return out;
}
const ELF = '\x7fELF\x02\x01\x01\x00';

interface DpkgPkg {
  name: string;
  version: string;
  arch: string;
  source?: string;
  section: string;
  size: number;
  maintainer: string;
  description: string;
}

const DPKG_BASE: DpkgPkg[] = [
  { name: 'base-files', version: '12.4+deb12u5', arch: 'amd64', section: 'admin', size: 394, maintainer: 'Santiago Vila <sanvila@debian.org>', description: 'Debian base system miscellaneous files' },
  { name: 'ca-certificates', version: '20230311', arch: 'all', section: 'misc', size: 382, maintainer: 'Julien Cristau <jcristau@debian.org>', description: 'Common CA certificates' },
  { name: 'libc6', version: '2.36-9+deb12u4', arch: 'amd64', source: 'glibc', section: 'libs', size: 12985, maintainer: 'GNU Libc Maintainers <debian-glibc@lists.debian.org>', description: 'GNU C Library: Shared libraries' },
  { name: 'libssl3', version: '3.0.11-1~deb12u2', arch: 'amd64', source: 'openssl', section: 'libs', size: 6324, maintainer: 'Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>', description: 'Secure Sockets Layer toolkit - shared libraries' },
  { name: 'tzdata', version: '2024a-0+deb12u1', arch: 'all', section: 'localization', size: 3339, maintainer: 'GNU Libc Maintainers <debian-glibc@lists.debian.org>', description: 'time zone and daylight-saving time data' },
  { name: 'zlib1g', version: '1:1.2.13.dfsg-1', arch: 'amd64', source: 'zlib', section: 'libs', size: 168, maintainer: 'Mark Brown <broonie@debian.org>', description: 'compression library - runtime' },
];
const DPKG_ADDED: DpkgPkg[] = [
  { name: 'curl', version: '7.88.1-10+deb12u5', arch: 'amd64', section: 'web', size: 500, maintainer: 'Alessandro Ghedini <ghedo@debian.org>', description: 'command line tool for transferring data with URL syntax' },
  { name: 'libcurl4', version: '7.88.1-10+deb12u5', arch: 'amd64', source: 'curl', section: 'libs', size: 1196, maintainer: 'Alessandro Ghedini <ghedo@debian.org>', description: 'easy-to-use client-side URL transfer library (OpenSSL flavour)' },
];

function dpkgStatus(pkgs: DpkgPkg[]): string {
  return [...pkgs]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map(
      (p) =>
        `Package: ${p.name}\nStatus: install ok installed\nPriority: optional\nSection: ${p.section}\nInstalled-Size: ${p.size}\n` +
        `Maintainer: ${p.maintainer}\nArchitecture: ${p.arch}\n${p.source ? `Source: ${p.source}\n` : ''}Version: ${p.version}\nDescription: ${p.description}\n`,
    )
    .join('\n');
}

interface NpmPkg {
  name: string;
  version: string;
  license: string;
  description: string;
}
const NPM_DEPS: NpmPkg[] = [
  { name: 'express', version: '4.18.2', license: 'MIT', description: 'Fast, unopinionated, minimalist web framework' },
  { name: 'lodash', version: '4.17.20', license: 'MIT', description: 'Lodash modular utilities.' },
  { name: 'left-pad', version: '1.3.0', license: 'WTFPL', description: 'String left pad' },
  { name: '@vouch-demo/logger', version: '0.3.1', license: 'Apache-2.0', description: 'Structured logs for the shop' },
];

const APP_PACKAGE_JSON = JSON.stringify(
  {
    name: 'shop-api',
    version: '1.4.0',
    private: true,
    license: 'Apache-2.0',
    main: 'server.js',
    dependencies: Object.fromEntries(NPM_DEPS.map((d) => [d.name, `^${d.version}`])),
  },
  null,
  2,
) + '\n';

const APP_LOCK_JSON = JSON.stringify(
  {
    name: 'shop-api',
    version: '1.4.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'shop-api', version: '1.4.0', license: 'Apache-2.0', dependencies: Object.fromEntries(NPM_DEPS.map((d) => [d.name, `^${d.version}`])) },
      ...Object.fromEntries(
        NPM_DEPS.map((d) => [
          `node_modules/${d.name}`,
          {
            version: d.version,
            resolved: `https://registry.npmjs.org/${d.name}/-/${d.name.split('/').pop()}-${d.version}.tgz`,
            integrity: `sha512-${filler(d.version.length * 7919 + d.name.length, 48).toString('base64')}`,
            license: d.license,
          },
        ]),
      ),
    },
  },
  null,
  2,
) + '\n';

/** The planted leftover secret (AWS's own documentation example keys, plus a password in a URL). */
const DOTENV =
  'NODE_ENV=production\n' +
  'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n' +
  'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' +
  'DATABASE_URL=postgres://shop:hunter2-demo@db.internal:5432/shop\n';

const OS_RELEASE =
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\n' +
  'VERSION_CODENAME=bookworm\nID=debian\nHOME_URL="https://www.debian.org/"\nSUPPORT_URL="https://www.debian.org/support"\n' +
  'BUG_REPORT_URL="https://bugs.debian.org/"\n';

const PASSWD_BASE =
  'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\n' +
  'sys:x:3:3:sys:/dev:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
const GROUP_BASE = 'root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nshadow:x:42:\nnogroup:x:65534:\n';
const PASSWD_APP = PASSWD_BASE + 'app:x:1000:1000:shop api:/app:/usr/sbin/nologin\n';
const GROUP_APP = GROUP_BASE + 'app:x:1000:\n';

const SERVER_V1 =
  "'use strict';\nconst express = require('express');\nconst app = express();\n" +
  "app.get('/health', (_req, res) => res.send('ok'));\napp.listen(8080);\n";
const SERVER_V2 =
  "'use strict';\nconst express = require('express');\nconst log = require('@vouch-demo/logger');\nconst app = express();\n" +
  "app.get('/health', (_req, res) => res.send('ok'));\napp.get('/version', (_req, res) => res.json({ version: '1.4.0' }));\n" +
  "app.listen(8080, () => log.info('listening on 8080'));\n";

const APP = { uid: 1000, gid: 1000 };

const LAYERS: LayerSpec[] = [
  {
    createdBy: '/bin/sh -c #(nop) ADD file:6b5c4f0e9a1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7 in / ',
    entries: [
      { type: 'symlink', path: 'bin', target: 'usr/bin' },
      { type: 'symlink', path: 'lib', target: 'usr/lib' },
      { type: 'file', path: 'etc/os-release', content: OS_RELEASE },
      { type: 'file', path: 'etc/debian_version', content: '12.5\n' },
      { type: 'file', path: 'etc/passwd', content: PASSWD_BASE },
      { type: 'file', path: 'etc/group', content: GROUP_BASE },
      { type: 'file', path: 'etc/shadow', content: 'root:*:19800:0:99999:7:::\ndaemon:*:19800:0:99999:7:::\n', mode: 0o640, gid: 42 },
      { type: 'dir', path: 'root', mode: 0o700 },
      { type: 'dir', path: 'tmp', mode: 0o1777 },
      { type: 'file', path: 'usr/bin/dash', content: filler(11, 6000, ELF), mode: 0o755 },
      { type: 'symlink', path: 'usr/bin/sh', target: 'dash' },
      { type: 'file', path: 'usr/bin/gunzip', content: filler(12, 3000, ELF), mode: 0o755 },
      { type: 'hardlink', path: 'usr/bin/uncompress', target: 'usr/bin/gunzip' },
      { type: 'file', path: 'usr/lib/x86_64-linux-gnu/libc.so.6', content: filler(13, 9000, ELF), mode: 0o755 },
      { type: 'file', path: 'usr/lib/x86_64-linux-gnu/libssl.so.3', content: filler(14, 5000, ELF), mode: 0o644 },
      { type: 'file', path: 'usr/lib/x86_64-linux-gnu/libz.so.1.2.13', content: filler(15, 2000, ELF), mode: 0o644 },
      { type: 'symlink', path: 'usr/lib/x86_64-linux-gnu/libz.so.1', target: 'libz.so.1.2.13' },
      { type: 'file', path: 'usr/share/zoneinfo/Etc/UTC', content: 'TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0UTC\n' },
      { type: 'file', path: 'var/lib/dpkg/status', content: dpkgStatus(DPKG_BASE) },
    ],
  },
  {
    createdBy:
      '/bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl && groupadd -g 1000 app && useradd -u 1000 -g app -d /app app && install -m 4755 demo-su /usr/bin/demo-su',
    entries: [
      { type: 'file', path: 'etc/passwd', content: PASSWD_APP },
      { type: 'file', path: 'etc/group', content: GROUP_APP },
      { type: 'file', path: 'usr/bin/curl', content: filler(21, 4000, ELF), mode: 0o755 },
      { type: 'file', path: 'usr/bin/demo-su', content: filler(22, 2500, ELF), mode: 0o4755 },
      { type: 'file', path: 'usr/lib/x86_64-linux-gnu/libcurl.so.4', content: filler(23, 7000, ELF), mode: 0o644 },
      { type: 'file', path: 'var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages', content: filler(24, 20000, 'Package: 0ad\n') },
      { type: 'file', path: 'var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease', content: filler(25, 3000, '-----BEGIN PGP SIGNED MESSAGE-----\n') },
      { type: 'file', path: 'var/lib/dpkg/status', content: dpkgStatus([...DPKG_BASE, ...DPKG_ADDED]) },
    ],
  },
  {
    createdBy: 'COPY . /app # buildkit',
    entries: [
      { type: 'dir', path: 'app', ...APP },
      { type: 'file', path: 'app/.env', content: DOTENV, mode: 0o600, ...APP },
      { type: 'file', path: 'app/package.json', content: APP_PACKAGE_JSON, ...APP },
      { type: 'file', path: 'app/package-lock.json', content: APP_LOCK_JSON, ...APP },
      { type: 'file', path: 'app/server.js', content: SERVER_V1, ...APP },
      { type: 'dir', path: 'app/node_modules', ...APP },
      ...NPM_DEPS.flatMap((d): SpecEntry[] => [
        ...(d.name.startsWith('@') ? [{ type: 'dir' as const, path: `app/node_modules/${d.name.split('/')[0]}`, ...APP }] : []),
        { type: 'dir', path: `app/node_modules/${d.name}`, ...APP },
        {
          type: 'file',
          path: `app/node_modules/${d.name}/package.json`,
          content: JSON.stringify({ name: d.name, version: d.version, description: d.description, license: d.license, main: 'index.js' }, null, 2) + '\n',
          ...APP,
        },
        { type: 'file', path: `app/node_modules/${d.name}/index.js`, content: `module.exports = require('./lib/${d.name.split('/').pop()}');\n`, ...APP },
      ]),
      { type: 'dir', path: 'app/tmp', ...APP },
      { type: 'dir', path: 'app/tmp/build-cache', ...APP },
      { type: 'file', path: 'app/tmp/build-cache/webpack.pack', content: filler(31, 12000), ...APP },
      { type: 'file', path: 'app/tmp/build-cache/index.json', content: '{"version":1,"entries":["webpack.pack"]}\n', ...APP },
    ],
  },
  {
    createdBy: '/bin/sh -c rm -f /app/.env && rm -rf /var/lib/apt/lists/* && rm -rf /app/tmp && mkdir /app/tmp && touch /app/tmp/.keep',
    entries: [
      { type: 'whiteout', path: 'app/.env' },
      { type: 'whiteout', path: 'var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages' },
      { type: 'whiteout', path: 'var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease' },
      { type: 'dir', path: 'app', ...APP },
      { type: 'dir', path: 'app/tmp', ...APP },
      { type: 'opaque', path: 'app/tmp' },
      { type: 'file', path: 'app/tmp/.keep', content: '', ...APP },
    ],
  },
  {
    createdBy: 'COPY server.js config/ /app/ # buildkit',
    entries: [
      { type: 'dir', path: 'app', ...APP },
      { type: 'file', path: 'app/server.js', content: SERVER_V2, ...APP },
      { type: 'dir', path: 'app/config', ...APP },
      { type: 'file', path: 'app/config/default.json', content: '{\n  "port": 8080,\n  "logLevel": "info"\n}\n', ...APP },
    ],
  },
];

const EMPTY_HISTORY = [
  'ENV NODE_ENV=production',
  'WORKDIR /app',
  'USER app',
  'EXPOSE map[8080/tcp:{}]',
  'LABEL org.opencontainers.image.source=https://github.com/vouch-demo/shop-api',
  'CMD ["node" "server.js"]',
];

const CONTAINER_CONFIG = {
  User: 'app',
  ExposedPorts: { '8080/tcp': {} },
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NODE_ENV=production'],
  Cmd: ['node', 'server.js'],
  WorkingDir: '/app',
};

// ---------------------------------------------------------------------------
// Tar entries for a layer: explicit entries plus missing parent dirs, sorted.

function toTarEntries(layer: LayerSpec): { entry: TarEntry; data?: Buffer }[] {
  const byPath = new Map<string, { entry: TarEntry; data?: Buffer }>();
  const key = (e: SpecEntry): string => (e.type === 'whiteout' ? `${e.path}\0wh` : e.type === 'opaque' ? `${e.path}/\0opq` : e.path);
  for (const e of layer.entries) {
    let te: { entry: TarEntry; data?: Buffer };
    switch (e.type) {
      case 'file': {
        const data = typeof e.content === 'string' ? Buffer.from(e.content, 'utf8') : e.content;
        te = { entry: { path: e.path, type: 'file', mode: e.mode ?? 0o644, uid: e.uid ?? 0, gid: e.gid ?? 0, size: data.length }, data };
        break;
      }
      case 'dir':
        te = { entry: { path: e.path, type: 'dir', mode: e.mode ?? 0o755, uid: e.uid ?? 0, gid: e.gid ?? 0 } };
        break;
      case 'symlink':
        te = { entry: { path: e.path, type: 'symlink', linkname: e.target } };
        break;
      case 'hardlink':
        te = { entry: { path: e.path, type: 'hardlink', linkname: e.target } };
        break;
      case 'whiteout':
        te = { entry: { path: e.path, type: 'whiteout' } };
        break;
      case 'opaque':
        te = { entry: { path: e.path, type: 'opaque' } };
        break;
    }
    byPath.set(key(e), te);
    // Parent directories, as real layers carry them.
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!byPath.has(dir)) byPath.set(dir, { entry: { path: dir, type: 'dir', mode: 0o755 } });
    }
  }
  // Explicit dirs listed after their children were auto-created: the explicit one wins (set above replaces).
  return [...byPath.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, v]) => v)
    .map((v) => ({ ...v, entry: { ...v.entry, mtime: MTIME } }));
}

// ---------------------------------------------------------------------------
// What is planted, computed from the spec.

export interface DemoFile {
  path: string;
  type: 'file' | 'symlink' | 'hardlink';
  size: number;
  mode: number;
  uid: number;
  gid: number;
  linkname?: string;
  /** Index of the layer the final version comes from. */
  layer: number;
}

export interface DemoPlanted {
  tag: string;
  reference: { source: string; revision: string; created: string };
  config: typeof CONTAINER_CONFIG & { Labels: Record<string, string> };
  layers: { createdBy: string; entries: number; paths: string[] }[];
  /** Regular files, symlinks and hard links in the merged filesystem (absolute paths, sorted). */
  files: DemoFile[];
  /** Sum of regular-file sizes in the merged filesystem. */
  totalBytes: number;
  setuid: string[];
  setgid: string[];
  /** Paths written by more than one layer (file versions). */
  overwritten: { path: string; layers: number[] }[];
  /** Paths removed by a whiteout in a later layer. */
  deleted: { path: string; addedIn: number; deletedIn: number; size: number }[];
  /** Opaque directories and the lower-layer paths they hide. */
  opaque: { dir: string; layer: number; hidden: string[] }[];
  /** Dive's rule for regular files: count of occurrences (versions and whiteouts), bytes of all versions. Sorted by bytes desc. */
  inefficientFiles: InefficientFile[];
  /** Secrets left in a lower layer although the final filesystem no longer has them. */
  leftoverSecrets: { path: string; addedIn: number; deletedIn: number; kinds: string[]; markers: string[] }[];
  /** Secrets in the config Env (none: the planted one is in a layer). */
  envSecrets: string[];
  dpkg: { name: string; version: string; arch: string; source?: string }[];
  npm: { name: string; version: string; path: string }[];
  osRelease: { id: string; versionId: string; prettyName: string };
  users: { name: string; uid: number }[];
}

function computePlanted(): DemoPlanted {
  type Node = Omit<DemoFile, 'path' | 'type'> & { type: DemoFile['type'] | 'dir' };
  const fs = new Map<string, Node>();
  const versions = new Map<string, number[]>();
  const occurrences = new Map<string, { count: number; bytes: number }>();
  const deleted: DemoPlanted['deleted'] = [];
  const opaque: DemoPlanted['opaque'] = [];
  /** Remove everything below `p`; returns the non-directory paths removed. */
  const removeUnder = (p: string): string[] => {
    const gone: string[] = [];
    for (const [k, n] of [...fs.entries()]) {
      if (!k.startsWith(`${p}/`)) continue;
      if (n.type !== 'dir') gone.push(k);
      fs.delete(k);
    }
    return gone;
  };
  const layers: DemoPlanted['layers'] = [];
  LAYERS.forEach((layer, li) => {
    const tes = toTarEntries(layer);
    layers.push({ createdBy: layer.createdBy, entries: tes.length, paths: tes.map((t) => `/${t.entry.path}`) });
    // Whiteouts and opaque markers apply to the lower layers first.
    for (const e of layer.entries) {
      const p = `/${e.path}`;
      if (e.type === 'whiteout') {
        const old = fs.get(p);
        if (old) {
          deleted.push({ path: p, addedIn: old.layer, deletedIn: li, size: old.type === 'file' ? old.size : 0 });
          const o = occurrences.get(p);
          if (o) o.count++;
        }
        fs.delete(p);
        removeUnder(p);
      } else if (e.type === 'opaque') {
        opaque.push({ dir: p, layer: li, hidden: removeUnder(p).sort() });
      }
    }
    for (const t of tes) {
      const e = t.entry;
      if (e.type === 'whiteout' || e.type === 'opaque') continue;
      const p = `/${e.path}`;
      const node: Node = {
        type: e.type,
        size: e.size ?? 0,
        mode: e.mode ?? (e.type === 'symlink' ? 0o777 : e.type === 'dir' ? 0o755 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        layer: li,
        ...(e.linkname !== undefined ? { linkname: e.type === 'hardlink' ? `/${e.linkname}` : e.linkname } : {}),
      };
      fs.set(p, node);
      if (e.type !== 'dir') {
        versions.set(p, [...(versions.get(p) ?? []), li]);
        const o = occurrences.get(p) ?? { count: 0, bytes: 0 };
        o.count++;
        o.bytes += node.type === 'file' ? node.size : 0;
        occurrences.set(p, o);
      }
    }
  });
  const files: DemoFile[] = [...fs.entries()]
    .filter(([, n]) => n.type !== 'dir')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([path, n]) => ({ path, ...(n as Omit<Node, 'type'> & { type: DemoFile['type'] }) }));
  const setuid = files.filter((f) => f.type === 'file' && (f.mode & 0o4000) !== 0).map((f) => f.path);
  const setgid = files.filter((f) => f.type === 'file' && (f.mode & 0o2000) !== 0).map((f) => f.path);
  const labels = {
    'org.opencontainers.image.created': DEMO_CREATED,
    'org.opencontainers.image.revision': DEMO_REVISION,
    'org.opencontainers.image.source': DEMO_SOURCE,
    'org.opencontainers.image.title': 'shop-api',
  };
  const dotenv = deleted.find((d) => d.path === '/app/.env')!;
  return {
    tag: DEMO_TAG,
    reference: { source: DEMO_SOURCE, revision: DEMO_REVISION, created: DEMO_CREATED },
    config: { ...CONTAINER_CONFIG, Labels: labels },
    layers,
    files,
    totalBytes: files.reduce((s, f) => s + (f.type === 'file' ? f.size : 0), 0),
    setuid,
    setgid,
    overwritten: [...versions.entries()].filter(([, v]) => v.length > 1).map(([path, layers]) => ({ path, layers })).sort((a, b) => (a.path < b.path ? -1 : 1)),
    deleted: deleted.sort((a, b) => (a.path < b.path ? -1 : 1)),
    opaque,
    inefficientFiles: [...occurrences.entries()]
      .filter(([, o]) => o.count > 1)
      .map(([path, o]) => ({ path, count: o.count, wastedBytes: o.bytes }))
      .sort((a, b) => b.wastedBytes - a.wastedBytes || (a.path < b.path ? -1 : 1)),
    leftoverSecrets: [
      {
        path: dotenv.path,
        addedIn: dotenv.addedIn,
        deletedIn: dotenv.deletedIn,
        kinds: ['aws-access-key-id', 'aws-secret-access-key', 'password-in-url'],
        markers: ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'postgres://shop:hunter2-demo@db.internal:5432/shop'],
      },
    ],
    envSecrets: [],
    dpkg: [...DPKG_BASE, ...DPKG_ADDED]
      .map((p) => ({ name: p.name, version: p.version, arch: p.arch, ...(p.source ? { source: p.source } : {}) }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
    npm: NPM_DEPS.map((d) => ({ name: d.name, version: d.version, path: `/app/node_modules/${d.name}/package.json` })),
    osRelease: { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
    users: [
      { name: 'root', uid: 0 },
      { name: 'daemon', uid: 1 },
      { name: 'bin', uid: 2 },
      { name: 'sys', uid: 3 },
      { name: 'nobody', uid: 65534 },
      { name: 'app', uid: 1000 },
    ],
  };
}

/** Exactly what the demo image contains and what a review of it should find. */
export const DEMO_PLANTED: DemoPlanted = computePlanted();

/** The uncompressed layer tars, in order (deterministic bytes; their sha256 are the diffIds). */
export function demoLayerTars(): Buffer[] {
  return LAYERS.map((l) => tarBuffer(toTarEntries(l)));
}

// ---------------------------------------------------------------------------
// Generation and reuse

export interface DemoImage {
  /** The OCI layout directory. */
  dir: string;
  tag: string;
  /** `oci:DIR:demo` */
  reference: string;
  manifestDigest: string;
  /** False when an existing valid layout was reused. */
  generated: boolean;
}

/** Where `ensureDemoImage(cacheDir)` puts the layout. */
export function demoLayoutDir(cacheDir: string): string {
  return join(cacheDir, `demo-image-v${DEMO_VERSION}`);
}

async function readValid(dir: string): Promise<string | undefined> {
  try {
    await stat(join(dir, 'index.json'));
  } catch {
    return undefined;
  }
  try {
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
    const desc = index.manifests?.find((m) => m.annotations?.[REF_NAME_ANNOTATION] === DEMO_TAG);
    if (!desc) return undefined;
    // A blob that is a symlink (even to the right bytes, which could change once checked) is not reused: the layout is rebuilt.
    const blobs = await readdir(join(dir, 'blobs', 'sha256'), { withFileTypes: true });
    if (blobs.some((b) => !b.isFile())) return undefined;
    await verifyLayoutBlobs(dir);
    const manifest = JSON.parse(await readFile(join(dir, 'blobs', 'sha256', desc.digest.slice(7)), 'utf8')) as ImageManifest;
    if (manifest.annotations?.[DEMO_VERSION_ANNOTATION] !== String(DEMO_VERSION)) return undefined;
    if (manifest.layers.length !== LAYERS.length) return undefined;
    return desc.digest;
  } catch {
    return undefined;
  }
}

/**
 * Make sure the demo image exists under `cacheDir` (generated once, atomically;
 * reused when present and valid) and return where it is.
 */
export async function ensureDemoImage(cacheDir: string): Promise<DemoImage> {
  const dir = demoLayoutDir(cacheDir);
  const result = (manifestDigest: string, generated: boolean): DemoImage => ({
    dir,
    tag: DEMO_TAG,
    reference: `oci:${dir}:${DEMO_TAG}`,
    manifestDigest,
    generated,
  });
  const existing = await readValid(dir);
  if (existing) return result(existing, false);
  // Present but invalid (interrupted by hand, older content under the same name): replace it.
  const writer = await OciLayoutWriter.create(dir, { ifExists: 'replace' });
  try {
    for (const [i, tar] of demoLayerTars().entries()) {
      await writer.addLayer(tar, { compression: 'gzip', gzipLevel: GZIP_LEVEL, createdBy: LAYERS[i]!.createdBy });
    }
    for (const h of EMPTY_HISTORY) writer.addEmptyHistory(h);
    const written = await writer.finish({
      tags: [DEMO_TAG],
      created: DEMO_CREATED,
      architecture: 'amd64',
      os: 'linux',
      config: CONTAINER_CONFIG,
      labels: DEMO_PLANTED.config.Labels,
      source: DEMO_SOURCE,
      revision: DEMO_REVISION,
      manifestAnnotations: { [DEMO_VERSION_ANNOTATION]: String(DEMO_VERSION) },
    });
    return result(written.manifestDigest, true);
  } catch (e) {
    await writer.abort();
    // Another process may have finished first.
    const raced = await readValid(dir);
    if (raced) return result(raced, false);
    throw e instanceof VouchError ? e : new VouchError('CACHE_ERROR', `demo image: ${(e as Error).message}`, { cause: e });
  }
}

/** Remove the generated demo layout (for tests and `--regenerate`). */
export async function removeDemoImage(cacheDir: string): Promise<void> {
  await rm(demoLayoutDir(cacheDir), { recursive: true, force: true });
}
