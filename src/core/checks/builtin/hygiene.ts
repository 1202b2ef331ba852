/** Hygiene: leftovers in the final filesystem and risky build steps in the history (paths and history lines only). */
import type { MergedNode } from '../../layers/filesystem.js';
import type { Check, CheckContext, Finding } from '../types.js';
import { pathAllowed } from './util.js';

/** Cache roots: the directory reported, and whether a file below it counts. */
const CACHE_RULES: Array<{ re: RegExp; what: string }> = [
  { re: /^(\/var\/cache\/apt\/archives)\/(?:partial\/)?[^/]+\.deb$/, what: 'downloaded .deb packages' },
  { re: /^(\/var\/lib\/apt\/lists)\/(?!lock$|partial\/|auxfiles\/)[^/]+$/, what: 'apt package lists' },
  { re: /^(\/var\/cache\/apk)\/.+/, what: 'apk cache' },
  { re: /^(\/var\/cache\/(?:yum|dnf))\/.+/, what: 'yum/dnf cache' },
  { re: /^(\/var\/cache\/zypp\/packages)\/.+/, what: 'zypper packages' },
  { re: /^((?:\/root|\/home\/[^/]+)\/\.npm)\/.+/, what: 'npm cache' },
  { re: /^((?:\/root|\/home\/[^/]+)\/\.cache\/(?:pip|pypoetry|uv))\/.+/, what: 'Python package cache' },
  { re: /^((?:\/root|\/home\/[^/]+)\/\.cache\/yarn|\/usr\/local\/share\/\.cache\/yarn)\/.+/, what: 'yarn cache' },
  { re: /^((?:\/root|\/home\/[^/]+)\/\.cache\/go-build)\/.+/, what: 'Go build cache' },
  { re: /^((?:\/root|\/home\/[^/]+)\/\.m2\/repository)\/.+/, what: 'Maven repository' },
  { re: /^((?:\/root|\/home\/[^/]+)\/\.gradle\/caches)\/.+/, what: 'Gradle cache' },
  { re: /^((?:\/root|\/home\/[^/]+)\/\.cargo\/registry)\/.+/, what: 'Cargo registry' },
];

export const packageCaches: Check = {
  id: 'VCH-HY-001',
  title: 'Package-manager cache left behind',
  step: 'least-privilege',
  defaultSeverity: 'low',
  help: {
    what: 'Package-manager caches and indexes in the final filesystem: /var/cache/apt/archives/*.deb, /var/lib/apt/lists/*, /var/cache/apk, /var/cache/yum|dnf, ~/.npm, ~/.cache/pip, yarn caches, ~/.m2/repository, Gradle, Cargo and Go build caches (for root and every /home user). One result per cache directory.',
    why: 'Caches add size without function, and stale package lists and archives make the image differ from what its SBOM and build claim; they also help an attacker install tools.',
    fix: 'Clean in the same RUN that fills the cache (`apt-get install … && rm -rf /var/lib/apt/lists/*`, `apk add --no-cache`, `pip install --no-cache-dir`, `npm ci && npm cache clean --force`), or use BuildKit cache mounts (`RUN --mount=type=cache,target=/root/.npm`).',
  },
  run(ctx) {
    const found = new Map<string, { what: string; files: number; bytes: number; byLayer: Map<number, number> }>();
    for (const [path, n] of ctx.files) {
      if (n.entry.type !== 'file' && n.entry.type !== 'hardlink' && n.entry.type !== 'symlink') continue;
      const c = path.charCodeAt(1);
      // Fast reject: every rule starts with /var, /root, /home or /usr.
      if (c !== 118 /* v */ && c !== 114 /* r */ && c !== 104 /* h */ && c !== 117 /* u */) continue;
      for (const r of CACHE_RULES) {
        const m = r.re.exec(path);
        if (!m) continue;
        const root = m[1]!;
        if (pathAllowed(ctx, path)) break;
        let f = found.get(root);
        if (!f) found.set(root, (f = { what: r.what, files: 0, bytes: 0, byLayer: new Map() }));
        f.files++;
        f.bytes += n.entry.size;
        f.byLayer.set(n.layer, (f.byLayer.get(n.layer) ?? 0) + 1 + n.entry.size);
        break;
      }
    }
    return [...found].map(([root, f]) => {
      const layer = [...f.byLayer].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
      return { subject: { path: root, layer: ctx.layer(layer) }, message: `${f.what} left in ${root}: ${f.files} file${f.files === 1 ? '' : 's'}, ${f.bytes} bytes` };
    });
  },
};

const VCS_DIRS = new Set(['.git', '.svn', '.hg', '.bzr', '.vscode', '.idea']);
const JUNK_FILES = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);

export const vcsLeftovers: Check = {
  id: 'VCH-HY-002',
  title: 'VCS or editor leftovers',
  step: 'least-privilege',
  defaultSeverity: 'medium',
  help: {
    what: 'Version-control and editor debris in the final filesystem: .git, .svn, .hg, .bzr, .vscode, .idea directories (reported once, not every file under them), .DS_Store, Thumbs.db, and vim swap files (*.swp, *.swo).',
    why: 'A .git directory ships the whole source history (often with credentials in its config or in old commits); editor files reveal local paths and settings; all of them show the build context was not filtered.',
    fix: 'Add them to .dockerignore (`.git`, `**/.DS_Store`, `.vscode`, `.idea`, `**/*.swp`) and copy only what the application needs (multi-stage builds).',
  },
  run(ctx) {
    const out: Finding[] = [];
    const reported = new Set<string>();
    const report = (path: string, n: MergedNode | undefined, what: string): void => {
      if (reported.has(path) || pathAllowed(ctx, path)) return;
      reported.add(path);
      out.push({ subject: { path, layer: n ? ctx.layer(n.layer) : null }, message: `${what} ${path}` });
    };
    for (const [path, n] of ctx.files) {
      if (!path.includes('/.') && !path.endsWith('Thumbs.db') && !path.endsWith('desktop.ini')) continue;
      // The topmost VCS/editor directory on the path (explicit or implicit).
      let start = 1;
      let hit = false;
      while (start < path.length) {
        const end = path.indexOf('/', start);
        const seg = path.slice(start, end < 0 ? undefined : end);
        if (VCS_DIRS.has(seg)) {
          const dir = end < 0 ? path : path.slice(0, end);
          if (![...reported].some((r) => dir.startsWith(`${r}/`))) report(dir, ctx.merged.paths.get(dir) ?? n, seg === '.vscode' || seg === '.idea' ? 'editor settings' : 'version-control directory');
          hit = true;
          break;
        }
        if (end < 0) break;
        start = end + 1;
      }
      if (hit || n.entry.type === 'dir') continue;
      const base = path.slice(path.lastIndexOf('/') + 1);
      if (JUNK_FILES.has(base)) report(path, n, 'desktop junk file');
      else if (base.endsWith('.swp') || base.endsWith('.swo')) report(path, n, 'editor swap file');
    }
    return out;
  },
};

const PIPE_TO_SHELL = /\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+)?(?:\/usr)?(?:\/bin\/)?(?:ba|z|da|k|a)?sh\b/;
const SHELL_OF_FETCH = /\b(?:ba|z|da|k)?sh\b[^|;&\n]*(?:\$\(|<\(|`)\s*(?:curl|wget)\b/;

function historyFindings(ctx: CheckContext, test: (line: string) => string | null): Finding[] {
  const out: Finding[] = [];
  ctx.analysis.history.forEach((h, i) => {
    if (!h.createdBy) return;
    const msg = test(h.createdBy);
    if (msg) out.push({ subject: { layer: ctx.history[i] ?? null }, message: msg });
  });
  // Images without a history: the layers' own created_by (none then, in practice).
  return out;
}

export const pipeToShell: Check = {
  id: 'VCH-HY-003',
  title: 'Remote script piped into a shell',
  step: 'dependency-control',
  defaultSeverity: 'high',
  help: {
    what: 'History lines that download and execute in one step: `curl … | sh`, `wget -O- … | bash`, `sh -c "$(curl …)"`, `bash <(curl …)`.',
    why: 'Whatever the server returned at build time ran as root in the build, unverified and unrecorded: the image cannot be reproduced or audited, and a compromised or spoofed server owns it.',
    fix: 'Download to a file, verify a pinned checksum or signature (`echo "<sha256>  install.sh" | sha256sum -c`), then run it; better, install from a package manager or COPY a vendored, reviewed script.',
  },
  run(ctx) {
    return historyFindings(ctx, (line) => (PIPE_TO_SHELL.test(line) || SHELL_OF_FETCH.test(line) ? 'a downloaded script is piped into a shell in this build step' : null));
  },
};

const ADD_URL = /(?:^|\s|\)\s*)ADD\s+((?:--\S+\s+)*)(?:https?|ftp):\/\//i;

export const addFromUrl: Check = {
  id: 'VCH-HY-004',
  title: 'ADD from a URL without a checksum',
  step: 'dependency-control',
  defaultSeverity: 'medium',
  cis: '4.9',
  help: {
    what: 'History lines `ADD http(s)://…` or `ADD ftp://…` without `--checksum=` (BuildKit records ADD lines as written).',
    why: 'ADD fetches whatever the URL serves at build time, unverified; COPY of a vetted file, or ADD with a pinned checksum, makes the input known.',
    fix: 'Use `ADD --checksum=sha256:<hex> <url> <dest>` (Dockerfile 1.6+), or download with curl and verify the checksum in the same RUN; prefer COPY for local files (CIS 4.9).',
  },
  run(ctx) {
    return historyFindings(ctx, (line) => {
      const m = ADD_URL.exec(line);
      return m && !/--checksum[= ]/.test(m[1] ?? '') ? 'ADD fetches a remote URL without a pinned checksum' : null;
    });
  },
};

const APT_UPDATE = /\bapt(?:-get)?\s+(?:-\S+\s+)*update\b/;
const APT_INSTALL = /\bapt(?:-get)?\s+(?:-\S+\s+)*(?:install|upgrade|dist-upgrade|full-upgrade|build-dep)\b/;
const APK_UPDATE = /\bapk\s+(?:--?\S+\s+)*update\b/;
const APK_INSTALL = /\bapk\s+(?:--?\S+\s+)*(?:add|upgrade|fix)\b/;

export const updateAlone: Check = {
  id: 'VCH-HY-005',
  title: 'Package index update in its own step',
  step: 'compliance',
  defaultSeverity: 'low',
  cis: '4.7',
  help: {
    what: 'A history line that runs `apt-get update` / `apt update` (or `apk update`) without installing or upgrading anything in the same step.',
    why: 'The index is cached in its own layer: later builds reuse the stale layer and install outdated packages (CIS 4.7), and the lists stay in the image.',
    fix: 'Update and install in one RUN: `RUN apt-get update && apt-get install -y --no-install-recommends pkg && rm -rf /var/lib/apt/lists/*` (or `apk add --no-cache pkg`).',
  },
  run(ctx) {
    return historyFindings(ctx, (line) => {
      if (APT_UPDATE.test(line) && !APT_INSTALL.test(line)) return 'apt-get update runs without an install in the same step';
      if (APK_UPDATE.test(line) && !APK_INSTALL.test(line)) return 'apk update runs without an install in the same step';
      return null;
    });
  },
};

export const noHealthcheck: Check = {
  id: 'VCH-HY-006',
  title: 'No HEALTHCHECK',
  step: 'compliance',
  defaultSeverity: 'info',
  cis: '4.6',
  help: {
    what: 'The image config has no HEALTHCHECK (or `HEALTHCHECK NONE`).',
    why: 'Without one, Docker and Swarm cannot tell a hung container from a healthy one (Kubernetes ignores it and uses probes, hence info).',
    fix: 'Add `HEALTHCHECK CMD <a cheap check>` to the Dockerfile, or document the orchestrator probes that replace it.',
  },
  run(ctx) {
    const hc = ctx.analysis.config.healthcheck;
    if (hc && hc.length > 0 && hc[0] !== 'NONE') return { pass: 'a HEALTHCHECK is defined' };
    return [{ message: hc?.[0] === 'NONE' ? 'HEALTHCHECK NONE disables the health check' : 'no HEALTHCHECK is defined' }];
  },
};

export const HYGIENE_CHECKS: Check[] = [packageCaches, vcsLeftovers, pipeToShell, addFromUrl, updateAlone, noHealthcheck];
