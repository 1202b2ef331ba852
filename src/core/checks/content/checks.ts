/**
 * The checks that need file contents. They read `ctx.facts` as
 * `contentFacts()` builds it (from the scanners' per-layer findings, cached
 * with the layer walks): no check reads a layer. Without those facts each
 * passes with "not applicable".
 *
 * Ids: VCH-SC-… (secrets in files), VCH-AC-… (accounts).
 */
import { pathAllowed } from '../builtin/util.js';
import type { Check, CheckContext, Finding, Pass } from '../types.js';
import type { ContentFacts, FinalAccounts, LayerSecret } from './facts.js';
import { PRIVATE_KEY_MARKERS, type SecretDetail } from './types.js';

const NO_FACTS: Pass = { pass: 'not applicable: no file-content facts (the content scanners did not run)' };

function facts(ctx: CheckContext): ContentFacts | null {
  const f = ctx.facts as Partial<ContentFacts>;
  return Array.isArray(f.secrets) && f.accounts && typeof f.accounts === 'object' ? (f as ContentFacts) : null;
}

const KIND_LABEL: Record<string, string> = {
  'private-key': 'private key file',
  dotenv: 'dotenv file',
  npmrc: 'npm config',
  pypirc: 'PyPI config',
  'aws-credentials': 'AWS credentials file',
  'docker-config': 'Docker client config',
  'git-credentials': 'git credential store',
  netrc: 'netrc file',
};

/** `aws-secret-access-key (AWS_SECRET_ACCESS_KEY, line 3)` — names and lines only, never a value or a hint of one. */
function describe(details: readonly SecretDetail[], keep: (m: string) => boolean): string {
  const parts: string[] = [];
  for (const d of details) {
    if (!keep(d.marker)) continue;
    const where = [d.name !== undefined ? d.name : null, `line ${d.line}`, d.encrypted ? 'encrypted' : null].filter((x) => x !== null).join(', ');
    parts.push(`${d.marker} (${where})`);
  }
  return parts.join('; ');
}

const isKey = (m: string): boolean => PRIVATE_KEY_MARKERS.has(m);
const isToken = (m: string): boolean => !PRIVATE_KEY_MARKERS.has(m);

function finalSecrets(ctx: CheckContext, f: ContentFacts, keep: (m: string) => boolean): LayerSecret[] {
  return f.secrets.filter((s) => s.final && s.markers.some(keep) && !pathAllowed(ctx, s.path));
}

export const privateKeyInImage: Check = {
  id: 'VCH-SC-001',
  title: 'Private key in the image',
  step: 'least-privilege',
  defaultSeverity: 'critical',
  cis: '4.10',
  help: {
    what: 'Files of the final filesystem that hold a private key: a PEM `-----BEGIN … PRIVATE KEY-----` block with a key body (RSA, EC, DSA, PKCS#8, encrypted PKCS#8, OpenSSH, PGP) or a PuTTY key, in SSH key files (`id_rsa`, `id_ed25519`, `id_ecdsa`, …), `*.pem`, `*.key`, `*.ppk`, and inside any credential file the scanner reads (e.g. a key in a `.env`). Paths in `allow.paths` are skipped. The key is never printed.',
    why: 'Everyone who can pull the image has the key: they can impersonate the service, decrypt its traffic or log in wherever the key is trusted. Encrypted keys only add an offline guessing step.',
    fix: 'Remove the key from the build context (`.dockerignore`) and mount it at run time (orchestrator secrets, a volume) or use BuildKit `--mount=type=secret` during the build; then revoke the exposed key and issue a new one.',
  },
  run(ctx) {
    const f = facts(ctx);
    if (!f) return NO_FACTS;
    return finalSecrets(ctx, f, isKey).map(
      (s): Finding => ({
        subject: { layer: ctx.layer(s.layer), path: s.path },
        message: `${KIND_LABEL[s.kind] ?? s.kind} ${s.path} holds a private key: ${describe(s.details, isKey)}`,
      }),
    );
  },
};

export const credentialFileInImage: Check = {
  id: 'VCH-SC-002',
  title: 'Credentials in a file of the image',
  step: 'least-privilege',
  defaultSeverity: 'critical',
  cis: '4.10',
  help: {
    what: 'Files of the final filesystem that hold tokens or passwords: `.env` files with secret assignments (AWS keys, tokens, passwords in URLs, `*_SECRET`/`*_TOKEN`/`*_PASSWORD` names with real values; template files such as `.env.example` only for value-shaped secrets), `.npmrc` with `_authToken`/`_auth`/`_password`, `.pypirc` with a password, `.aws/credentials` with keys, `.docker/config.json` (or `.dockercfg`) with `auth`/`identitytoken`, `.git-credentials`, `.netrc` with a password. Placeholders and `${VAR}` references do not count. Paths in `allow.paths` are skipped. Values are never printed.',
    why: 'Anyone who can pull the image reads these files: registry, cloud and database credentials in an image are as public as the image.',
    fix: 'Keep credential files out of the build context (`.dockerignore`), pass them at build time with BuildKit `--mount=type=secret` and at run time as mounted secrets; then rotate every credential that was in the image.',
  },
  run(ctx) {
    const f = facts(ctx);
    if (!f) return NO_FACTS;
    return finalSecrets(ctx, f, isToken).map(
      (s): Finding => ({
        subject: { layer: ctx.layer(s.layer), path: s.path },
        message: `${KIND_LABEL[s.kind] ?? s.kind} ${s.path} holds credentials: ${describe(s.details, isToken)} (values redacted)`,
      }),
    );
  },
};

export const secretLeftInLayer: Check = {
  id: 'VCH-SC-003',
  title: 'Secret deleted in a later layer but still in an earlier one',
  step: 'least-privilege',
  defaultSeverity: 'high',
  cis: '4.10',
  help: {
    what: 'Credential files (private keys, tokens, passwords — the files VCH-SC-001 and VCH-SC-002 look for) that a layer added and a later layer deleted, overwrote or hid behind an opaque directory. The final filesystem no longer shows them, but the earlier layer still carries the bytes. The result names the layer (digest and history line) where the secret still sits. Paths in `allow.paths` are skipped.',
    why: 'Layers are immutable: `docker save`, a registry pull or any layer tool extracts the earlier layer with the file intact. Deleting a secret in a later step does not remove it from the image.',
    fix: 'Never copy secrets into a layer: use BuildKit `--mount=type=secret` (or a multi-stage build where only the final stage is shipped and it never received the secret), rebuild, and rotate the exposed secret.',
  },
  run(ctx) {
    const f = facts(ctx);
    if (!f) return NO_FACTS;
    const out: Finding[] = [];
    for (const s of f.secrets) {
      if (s.final || pathAllowed(ctx, s.path)) continue;
      const by = s.removed ? ` ${s.removed.how} in layer ${s.removed.layer}${ctx.layer(s.removed.layer).digest ? ` (${ctx.layer(s.removed.layer).digest})` : ''}` : ' not in the final filesystem';
      out.push({
        subject: { layer: ctx.layer(s.layer), path: s.path },
        message: `${KIND_LABEL[s.kind] ?? s.kind} ${s.path} in layer ${s.layer} holds ${describe(s.details, () => true)}; it was${by}, but layer ${s.layer} still carries it (values redacted)`,
      });
    }
    return out;
  },
};

function accountSubject(ctx: CheckContext, a: FinalAccounts): Finding['subject'] {
  return { layer: ctx.layer(a.layer), path: a.path };
}

export const emptyPassword: Check = {
  id: 'VCH-AC-001',
  title: 'Account with an empty password',
  step: 'least-privilege',
  defaultSeverity: 'high',
  help: {
    what: 'Accounts of the final `/etc/shadow` whose password field is empty (`user::…`), and `/etc/passwd` entries with an empty password field. Locked accounts (`!`, `*`, `!!`) and set passwords do not count; hashes are never read into results.',
    why: 'An empty password lets anyone log in as that account with no password (su, login, ssh with PermitEmptyPasswords), so any process in the container can become that user — root, if it is root.',
    fix: 'Lock the account (`passwd -l NAME`, or `*`/`!` in the password field), or remove it; never ship images with passwordless accounts.',
  },
  run(ctx) {
    const f = facts(ctx);
    if (!f) return NO_FACTS;
    const out: Finding[] = [];
    const sh = f.accounts.shadow;
    for (const e of sh?.shadow ?? []) {
      if (e.state === 'empty') out.push({ subject: accountSubject(ctx, sh!), message: `account ${e.name} has an empty password in ${sh!.path} (line ${e.line})` });
    }
    const pw = f.accounts.passwd;
    for (const e of pw?.passwd ?? []) {
      if (e.emptyPassword) out.push({ subject: accountSubject(ctx, pw!), message: `account ${e.name} (uid ${e.uid}) has an empty password field in ${pw!.path} (line ${e.line}): no password is asked` });
    }
    return out;
  },
};

/** Values shared by more than one record: value → the records. */
function duplicates<T>(items: readonly T[], key: (t: T) => string | number): Map<string | number, T[]> {
  const by = new Map<string | number, T[]>();
  for (const i of items) {
    const k = key(i);
    const l = by.get(k);
    if (l) l.push(i);
    else by.set(k, [i]);
  }
  for (const [k, l] of by) if (l.length < 2) by.delete(k);
  return by;
}

const lines = (xs: ReadonlyArray<{ line: number }>): string => xs.map((x) => x.line).join(', ');

export const duplicateUid: Check = {
  id: 'VCH-AC-002',
  title: 'Duplicate UID',
  step: 'least-privilege',
  defaultSeverity: 'medium',
  help: {
    what: 'UIDs shared by more than one account in the final `/etc/passwd` (uid 0 is VCH-AC-005).',
    why: 'Accounts with the same UID are the same user to the kernel: files, processes and permissions of one belong to the other, and audit logs cannot tell them apart.',
    fix: 'Give every account its own UID (`usermod -u`) or remove the extra account.',
  },
  run(ctx) {
    const f = facts(ctx);
    if (!f) return NO_FACTS;
    const pw = f.accounts.passwd;
    if (!pw?.passwd) return [];
    const out: Finding[] = [];
    for (const [uid, users] of duplicates(pw.passwd, (u) => u.uid)) {
      if (uid === 0) continue;
      out.push({ subject: accountSubject(ctx, pw), message: `uid ${uid} is shared by ${users.map((u) => u.name).join(', ')} in ${pw.path} (lines ${lines(users)})` });
    }
    return out;
  },
};

export const duplicateGid: Check = {
  id: 'VCH-AC-003',
  title: 'Duplicate GID',
  step: 'least-privilege',
  defaultSeverity: 'medium',
  help: {
    what: 'GIDs shared by more than one group in the final `/etc/group`.',
    why: 'Groups with the same GID are the same group to the kernel: membership of one grants the access of the other.',
    fix: 'Give every group its own GID (`groupmod -g`) or remove the extra group.',
  },
  run(ctx) {
    const f = facts(ctx);
    if (!f) return NO_FACTS;
    const gr = f.accounts.group;
    if (!gr?.group) return [];
    return [...duplicates(gr.group, (g) => g.gid)].map(([gid, groups]): Finding => ({
      subject: accountSubject(ctx, gr),
      message: `gid ${gid} is shared by ${groups.map((g) => g.name).join(', ')} in ${gr.path} (lines ${lines(groups)})`,
    }));
  },
};

export const duplicateName: Check = {
  id: 'VCH-AC-004',
  title: 'Duplicate user or group name',
  step: 'least-privilege',
  defaultSeverity: 'medium',
  help: {
    what: 'User names listed more than once in the final `/etc/passwd` or `/etc/shadow`, and group names listed more than once in `/etc/group`.',
    why: 'Only the first entry of a name is used by most tools, others act on the second: ownership, logins and passwords stop meaning what the files seem to say.',
    fix: 'Keep one entry per name (`vipw`/`vigr`, or rebuild the files with `useradd`/`groupadd`).',
  },
  run(ctx) {
    const f = facts(ctx);
    if (!f) return NO_FACTS;
    const out: Finding[] = [];
    const each = (a: FinalAccounts | null, items: ReadonlyArray<{ name: string; line: number }> | undefined, what: string): void => {
      if (!a || !items) return;
      for (const [name, xs] of duplicates(items, (x) => x.name)) {
        out.push({ subject: accountSubject(ctx, a), message: `${what} ${name} is listed ${xs.length} times in ${a.path} (lines ${lines(xs)})` });
      }
    };
    each(f.accounts.passwd, f.accounts.passwd?.passwd, 'user');
    each(f.accounts.shadow, f.accounts.shadow?.shadow, 'user');
    each(f.accounts.group, f.accounts.group?.group, 'group');
    return out;
  },
};

export const extraRootAccount: Check = {
  id: 'VCH-AC-005',
  title: 'UID 0 account other than root',
  step: 'least-privilege',
  defaultSeverity: 'high',
  help: {
    what: 'Accounts of the final `/etc/passwd` with uid 0 whose name is not `root`.',
    why: 'Every uid 0 account is root: a second one is a classic backdoor and hides root activity behind another name.',
    fix: 'Remove the account, or give it its own non-zero UID.',
  },
  run(ctx) {
    const f = facts(ctx);
    if (!f) return NO_FACTS;
    const pw = f.accounts.passwd;
    return (pw?.passwd ?? [])
      .filter((u) => u.uid === 0 && u.name !== 'root')
      .map((u): Finding => ({ subject: accountSubject(ctx, pw!), message: `account ${u.name} has uid 0 (root) in ${pw!.path} (line ${u.line})` }));
  },
};

export const CONTENT_CHECKS: Check[] = [privateKeyInImage, credentialFileInImage, secretLeftInLayer, emptyPassword, duplicateUid, duplicateGid, duplicateName, extraRootAccount];
