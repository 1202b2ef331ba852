/** Least privilege: what the container runs as and can do (config and file metadata only). */
import type { Check, Finding } from '../types.js';
import { isPlaceholderValue, isSecretName, looksLikeSecretValue } from '../redact.js';
import { hardLinkGroup, nodeLayer, octal, packageSubject, pathAllowed, policyMatcher, type LinkGroup } from './util.js';

const ROOT_NAMES = new Set(['', '0', 'root']);

export const runsAsRoot: Check = {
  id: 'VCH-LP-001',
  title: 'Runs as root',
  step: 'least-privilege',
  defaultSeverity: 'high',
  cis: '4.1',
  help: {
    what: 'The image config has no USER, or USER is `0`, `root`, `0:0` or any `root:GROUP` / `0:GROUP` (and, when a content scanner read /etc/passwd, a user name whose uid is 0).',
    why: 'A process running as root in the container is root on the host if it escapes, and can modify everything in its own filesystem.',
    fix: 'Create an unprivileged user in the Dockerfile (`RUN useradd -r -u 10001 app`) and end with `USER 10001` (a numeric uid lets admission controllers verify it).',
  },
  run(ctx) {
    const raw = ctx.analysis.config.user.trim();
    const user = raw.split(':')[0]!;
    // A numeric USER is a uid whatever it is spelled as (`00`, `0000` are uid 0 to the runtime).
    let root = ROOT_NAMES.has(user) || (/^\d+$/.test(user) && Number(user) === 0);
    let via = '';
    if (!root && ctx.facts.passwd && !/^\d+$/.test(user)) {
      const u = ctx.facts.passwd.find((p) => p.name === user);
      if (u && u.uid === 0) {
        root = true;
        via = ` (uid 0 in /etc/passwd)`;
      }
    }
    if (!root) return { pass: `runs as ${JSON.stringify(raw)}` };
    return [{ message: raw === '' ? 'no USER is set: the container runs as root' : `USER ${JSON.stringify(raw)} is root${via}` }];
  },
};

export const setuidFiles: Check = {
  id: 'VCH-LP-002',
  title: 'Unexpected setuid/setgid file',
  step: 'least-privilege',
  defaultSeverity: 'high',
  cis: '4.8',
  help: {
    what: 'Regular files (and hard links) in the final filesystem with the setuid or setgid bit that are not on the policy allow-list (`allow.setuid`; the usual su, passwd, mount, ping, sudo, chsh, chfn, newgrp, gpasswd, unix_chkpwd… by default).',
    why: 'A setuid binary runs with its owner\'s privileges whoever starts it: any flaw in it is a privilege escalation inside the container.',
    fix: 'Remove the bit in the Dockerfile (`RUN chmod a-s /path`, or `find / -perm /6000 -type f -exec chmod a-s {} +` for all), or remove the binary; if it is genuinely needed, add it to `allow.setuid` in the policy.',
  },
  run(ctx) {
    const allowed = policyMatcher(ctx.policy, 'setuid');
    const out: Finding[] = [];
    for (const [path, n] of ctx.files) {
      const e = n.entry;
      if (e.type !== 'file' && e.type !== 'hardlink') continue;
      // A hard-linked file is setuid if any name's header says so (which header wins differs between runtimes).
      const group = hardLinkGroup(ctx, path);
      const mode = e.mode | (group?.bits ?? 0);
      if ((mode & 0o6000) === 0) continue;
      if (allowed(path) || pathAllowed(ctx, path)) continue;
      const bits = [(mode & 0o4000) !== 0 ? 'setuid' : '', (mode & 0o2000) !== 0 ? 'setgid' : ''].filter(Boolean).join('+');
      out.push({ subject: { path, layer: nodeLayer(ctx, n) }, message: `${path} is ${bits} (mode ${octal(e.mode)}, owner ${e.uid}:${e.gid})${sharedWith(path, group, e.mode, 0o6000)}` });
    }
    return out;
  },
};

/** The other names of a hard-linked file, and whether the bit came from one of their headers rather than this path's. */
function sharedWith(path: string, group: LinkGroup | undefined, own: number, bit: number): string {
  if (!group) return '';
  const others = group.paths.filter((p) => p !== path).join(', ');
  return (own & bit) === (group.bits & bit) ? `; same inode as ${others}` : `; from another name's header (same inode as ${others})`;
}

const TMP_ROOTS = ['/tmp/', '/var/tmp/', '/dev/shm/'];

export const worldWritable: Check = {
  id: 'VCH-LP-003',
  title: 'World-writable file or directory',
  step: 'least-privilege',
  defaultSeverity: 'medium',
  help: {
    what: 'Files and directories writable by everyone (mode o+w). Allowed: directories with the sticky bit (like /tmp, mode 1777) and anything below /tmp, /var/tmp and /dev/shm. Symlinks are not judged; device nodes are judged by VCH-LP-008.',
    why: 'Any user in the container (or a compromised unprivileged process) can replace a world-writable file or plant files in a world-writable directory that root later runs or reads.',
    fix: 'Fix the mode in the Dockerfile (`chmod o-w`, or `COPY --chmod=755`); use the sticky bit (`chmod 1777`) for shared scratch directories.',
  },
  run(ctx) {
    const out: Finding[] = [];
    for (const [path, n] of ctx.files) {
      const e = n.entry;
      const group = e.type === 'file' || e.type === 'hardlink' ? hardLinkGroup(ctx, path) : undefined;
      if (((e.mode | (group?.bits ?? 0)) & 0o002) === 0) continue;
      if (e.type !== 'file' && e.type !== 'dir' && e.type !== 'hardlink') continue;
      if (e.type === 'dir' && (e.mode & 0o1000) !== 0) continue;
      if (e.type !== 'dir' && TMP_ROOTS.some((r) => path.startsWith(r))) continue;
      if (pathAllowed(ctx, path)) continue;
      out.push({ subject: { path, layer: nodeLayer(ctx, n) }, message: `${e.type === 'dir' ? 'directory' : 'file'} ${path} is world-writable (mode ${octal(e.mode)})${sharedWith(path, group, e.mode, 0o002)}` });
    }
    return out;
  },
};

const HOST_PATHS = ['/dev', '/proc', '/sys'];

export const sensitiveVolume: Check = {
  id: 'VCH-LP-004',
  title: 'VOLUME on a system path',
  step: 'least-privilege',
  defaultSeverity: 'high',
  help: {
    what: 'A VOLUME declared on `/`, /dev, /proc or /sys (or below them).',
    why: 'A volume there invites mounting host devices or kernel interfaces into the container, and hides what the image itself put there.',
    fix: 'Remove the VOLUME instruction; mount what the application needs at run time, read-only, with the narrowest path.',
  },
  run(ctx) {
    const out: Finding[] = [];
    for (const v of ctx.analysis.config.volumes) {
      const p = v.replace(/\/+$/, '') || '/';
      if (p === '/' || HOST_PATHS.some((h) => p === h || p.startsWith(`${h}/`))) out.push({ subject: { path: p }, message: `VOLUME ${JSON.stringify(v)} is on a system path` });
    }
    return out;
  },
};

export const privilegedPorts: Check = {
  id: 'VCH-LP-005',
  title: 'Privileged port exposed',
  step: 'least-privilege',
  defaultSeverity: 'low',
  cis: '5.8',
  help: {
    what: 'EXPOSE of a port below 1024 other than those in `allow.ports` (80 and 443 by default: the web ports every front end serves, which need no other privilege since Docker 20.10 sets `net.ipv4.ip_unprivileged_port_start=0`). Port 22 is named as SSH.',
    why: 'Binding a port below 1024 traditionally needs root or CAP_NET_BIND_SERVICE, so such a port suggests the process keeps privileges it should not need; SSH in a container is an extra way in (CIS 5.7).',
    fix: 'Listen on an unprivileged port (e.g. 8080) and map it at run time (`-p 80:8080`); drop the port from EXPOSE, or add it to `allow.ports` in the policy.',
  },
  run(ctx) {
    const allowed = new Set(ctx.policy.allow.ports);
    const out: Finding[] = [];
    for (const p of ctx.analysis.config.exposedPorts) {
      const n = Number(p.split('/')[0]);
      if (!Number.isInteger(n) || n >= 1024 || allowed.has(n)) continue;
      out.push({ message: `EXPOSE ${p}: privileged port${n === 22 ? ' (SSH)' : ''}` });
    }
    return out;
  },
};

const SUDO_PATHS = ['/usr/bin/sudo', '/bin/sudo', '/usr/sbin/sudo', '/sbin/sudo', '/usr/local/bin/sudo'];

export const sudoPresent: Check = {
  id: 'VCH-LP-006',
  title: 'sudo in the image',
  step: 'least-privilege',
  defaultSeverity: 'medium',
  help: {
    what: 'A sudo binary in the final filesystem (/usr/bin/sudo, /bin/sudo, /usr/sbin/sudo, /usr/local/bin/sudo) or a `sudo` OS package in the catalogue.',
    why: 'sudo lets a process regain root; a container should not need it, and its presence usually means the image is set up for interactive use.',
    fix: 'Do not install sudo (`apt-get purge sudo`); run the steps that need root before `USER`, and use `gosu`/`su-exec` in an entrypoint only when a privilege drop at start is unavoidable.',
  },
  run(ctx) {
    const out: Finding[] = [];
    for (const p of SUDO_PATHS) {
      const n = ctx.merged.paths.get(p);
      if (n && n.entry.type !== 'dir' && !pathAllowed(ctx, p)) out.push({ subject: { path: p, layer: ctx.layer(n.layer) }, message: `sudo is installed at ${p}` });
    }
    for (const pkg of ctx.inventory?.packages ?? []) {
      if (pkg.name === 'sudo' && (pkg.type === 'deb' || pkg.type === 'apk' || pkg.type === 'rpm')) {
        out.push({ subject: { package: packageSubject(pkg), path: pkg.locations[0]?.path ?? null }, message: `the ${pkg.type} package sudo ${pkg.version} is installed` });
      }
    }
    return out;
  },
};

export const envSecrets: Check = {
  id: 'VCH-LP-007',
  title: 'Secret in the environment',
  step: 'least-privilege',
  defaultSeverity: 'critical',
  cis: '4.10',
  help: {
    what: 'Config `Env` entries whose name says secret (PASSWORD, SECRET, TOKEN, API_KEY, ACCESS_KEY, PRIVATE_KEY, CREDENTIALS, AUTH, *_KEY…) with a real value, or whose value looks like a key or token (AWS keys, GitHub/GitLab/Slack/npm tokens, JWTs, PEM private keys, credentials in URLs, long high-entropy strings). Names in `allow.env` are skipped. Values are never printed.',
    why: 'Env values are part of the image config: anyone who can pull the image reads them (`docker inspect`), and they leak into logs, crash reports and child processes.',
    fix: 'Remove the ENV; pass secrets at run time (orchestrator secrets, mounted files with a `*_FILE` variable, BuildKit `--mount=type=secret` at build time), then rotate the exposed secret.',
  },
  run(ctx) {
    const allowed = policyMatcher(ctx.policy, 'env');
    const out: Finding[] = [];
    for (const kv of ctx.analysis.config.env) {
      const eq = kv.indexOf('=');
      const name = eq < 0 ? kv : kv.slice(0, eq);
      const value = eq < 0 ? '' : kv.slice(eq + 1);
      if (allowed(name)) continue;
      const byName = isSecretName(name) && !isPlaceholderValue(value);
      const byValue = looksLikeSecretValue(value);
      if (!byName && !byValue) continue;
      out.push({
        subject: { env: name },
        message: `ENV ${name} ${byValue ? 'holds a value that looks like a secret' : 'has a secret-like name and a value'} (value redacted, ${value.length} characters)`,
      });
    }
    return out;
  },
};

/** The character devices every OCI runtime creates in /dev anyway (runtime-spec "Default Devices", plus the console and ptmx). */
const RUNTIME_DEVICES: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['/dev/null', [1, 3]],
  ['/dev/zero', [1, 5]],
  ['/dev/full', [1, 7]],
  ['/dev/random', [1, 8]],
  ['/dev/urandom', [1, 9]],
  ['/dev/tty', [5, 0]],
  ['/dev/console', [5, 1]],
  ['/dev/ptmx', [5, 2]],
]);

/** Character devices that read or write physical memory and I/O ports (Linux devices.txt: mem, kmem, port). */
const MEMORY_DEVICES: ReadonlyMap<string, string> = new Map([
  ['1,1', '/dev/mem'],
  ['1,2', '/dev/kmem'],
  ['1,4', '/dev/port'],
]);

/** Block majors of disks: SCSI/SATA (sd: 8, 65–71, 128–135) and NVMe namespaces (blkext 259). */
function diskMajor(major: number): string | null {
  if (major === 8 || (major >= 65 && major <= 71) || (major >= 128 && major <= 135)) return '/dev/sd*';
  if (major === 259) return '/dev/nvme*';
  return null;
}

/** What makes a device node high rather than medium: raw memory or disk access, by its numbers or its name. */
function dangerousDevice(path: string, type: 'char' | 'block', major: number, minor: number): string | null {
  if (type === 'char') {
    const mem = MEMORY_DEVICES.get(`${major},${minor}`);
    if (mem) return `the numbers of ${mem}`;
  } else {
    const disk = diskMajor(major);
    if (disk) return `a disk major (${disk})`;
  }
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (/^(?:mem|kmem|port)$/.test(base) || /^sd[a-z]/.test(base) || /^nvme\d/.test(base)) return `named like /dev/${base}`;
  return null;
}

export const deviceNodes: Check = {
  id: 'VCH-LP-008',
  title: 'Device node in the image',
  step: 'least-privilege',
  defaultSeverity: 'medium',
  help: {
    what: 'Character and block device nodes in the final filesystem, other than the ones every runtime creates in /dev anyway (/dev/null, zero, full, random, urandom, tty, console, ptmx with their usual numbers). High when the node is world-writable, or gives raw memory or disk access: the numbers of /dev/mem (1,1), /dev/kmem (1,2), /dev/port (1,4), a SCSI/SATA or NVMe disk major (8, 65–71, 128–135, 259), or such a name.',
    why: 'Builders never need to ship device nodes: the runtime creates /dev. A node in the image is a way to reach host memory or disks whenever the device cgroup lets it through (privileged containers, `--device-cgroup-rule`, other runtimes, unpacking the image on a host), and a renamed one (`/opt/mem2`, char 1,1) hides what it is.',
    fix: 'Remove the node (`RUN rm`, or build from a clean base; `mknod` does not belong in a Dockerfile); pass devices the application really needs at run time (`--device`). If it must stay, add its path to `allow.paths` in the policy.',
  },
  run(ctx) {
    const out: Finding[] = [];
    for (const [path, n] of ctx.files) {
      const e = n.entry;
      if (e.type !== 'char' && e.type !== 'block') continue;
      const major = e.devmajor ?? 0;
      const minor = e.devminor ?? 0;
      const usual = RUNTIME_DEVICES.get(path);
      if (e.type === 'char' && usual && usual[0] === major && usual[1] === minor && (e.mode & 0o7000) === 0) continue;
      if (pathAllowed(ctx, path)) continue;
      const why = [dangerousDevice(path, e.type, major, minor), (e.mode & 0o002) !== 0 ? 'world-writable' : null].filter((x): x is string => x !== null);
      out.push({
        subject: { path, layer: nodeLayer(ctx, n) },
        message: `${e.type} device ${path} (${major},${minor}, mode ${octal(e.mode)}, owner ${e.uid}:${e.gid})${why.length ? `: ${why.join(', ')}` : ''}`,
        ...(why.length ? { severity: 'high' as const } : {}),
      });
    }
    return out;
  },
};

export const LEAST_PRIVILEGE_CHECKS: Check[] = [runsAsRoot, setuidFiles, worldWritable, sensitiveVolume, privilegedPorts, sudoPresent, envSecrets, deviceNodes];
