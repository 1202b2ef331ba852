/** Least privilege: what the container runs as and can do (config and file metadata only). */
import type { Check, Finding } from '../types.js';
import { isPlaceholderValue, isSecretName, looksLikeSecretValue } from '../redact.js';
import { nodeLayer, octal, packageSubject, pathAllowed, policyMatcher } from './util.js';

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
      if ((e.mode & 0o6000) === 0 || (e.type !== 'file' && e.type !== 'hardlink')) continue;
      if (allowed(path) || pathAllowed(ctx, path)) continue;
      const bits = [(e.mode & 0o4000) !== 0 ? 'setuid' : '', (e.mode & 0o2000) !== 0 ? 'setgid' : ''].filter(Boolean).join('+');
      out.push({ subject: { path, layer: nodeLayer(ctx, n) }, message: `${path} is ${bits} (mode ${octal(e.mode)}, owner ${e.uid}:${e.gid})` });
    }
    return out;
  },
};

const TMP_ROOTS = ['/tmp/', '/var/tmp/', '/dev/shm/'];

export const worldWritable: Check = {
  id: 'VCH-LP-003',
  title: 'World-writable file or directory',
  step: 'least-privilege',
  defaultSeverity: 'medium',
  help: {
    what: 'Files and directories writable by everyone (mode o+w). Allowed: directories with the sticky bit (like /tmp, mode 1777) and anything below /tmp, /var/tmp and /dev/shm. Symlinks and device nodes are not judged.',
    why: 'Any user in the container (or a compromised unprivileged process) can replace a world-writable file or plant files in a world-writable directory that root later runs or reads.',
    fix: 'Fix the mode in the Dockerfile (`chmod o-w`, or `COPY --chmod=755`); use the sticky bit (`chmod 1777`) for shared scratch directories.',
  },
  run(ctx) {
    const out: Finding[] = [];
    for (const [path, n] of ctx.files) {
      const e = n.entry;
      if ((e.mode & 0o002) === 0) continue;
      if (e.type !== 'file' && e.type !== 'dir' && e.type !== 'hardlink') continue;
      if (e.type === 'dir' && (e.mode & 0o1000) !== 0) continue;
      if (e.type !== 'dir' && TMP_ROOTS.some((r) => path.startsWith(r))) continue;
      if (pathAllowed(ctx, path)) continue;
      out.push({ subject: { path, layer: nodeLayer(ctx, n) }, message: `${e.type === 'dir' ? 'directory' : 'file'} ${path} is world-writable (mode ${octal(e.mode)})` });
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

export const LEAST_PRIVILEGE_CHECKS: Check[] = [runsAsRoot, setuidFiles, worldWritable, sensitiveVolume, privilegedPorts, sudoPresent, envSecrets];
