/**
 * Which files a reviewer must see first in a file diff: setuid/setgid,
 * world-writable, key- or credential-looking names, and executables in the
 * directories on a default PATH. Judged from the path and the tar header only.
 */
import type { EntryType } from '../layers/types.js';

/** 'account-file': /etc/shadow, /etc/gshadow (password hashes live there; diff cannot see whether any is set). */
export type ReviewReason = 'setuid' | 'setgid' | 'world-writable' | 'secret' | 'account-file' | 'executable-in-path';

/** Directories on docker's default PATH. */
const PATH_DIRS = new Set(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']);

/** Base names and suffixes that hold keys or credentials. */
const SECRET_BASENAMES = new Set([
  'id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'id_ecdsa_sk', 'id_ed25519_sk', 'identity',
  '.npmrc', '.pypirc', '.netrc', '_netrc', '.git-credentials', '.pgpass', '.my.cnf', '.env', '.htpasswd',
  'credentials', 'credentials.json', 'service-account.json', 'secrets.json', 'secrets.yaml', 'secrets.yml',
  'authorized_keys',
]);
const ACCOUNT_FILES = new Set(['/etc/shadow', '/etc/gshadow']);
/** Where package managers keep public signing keys (apt, rpm): keyrings, not secrets. */
const PUBLIC_KEYRINGS = /^\/(etc\/apt\/trusted\.gpg(\.d\/.*)?|etc\/apt\/keyrings\/.*|usr\/share\/keyrings\/.*|etc\/pki\/rpm-gpg\/.*)$/;
const SECRET_SUFFIX = /\.(pem|key|p12|pfx|jks|keystore|kdbx|ppk|asc|gpg|ovpn)$|^\.env\.[^/]+$/i;
const SECRET_DIRS = /\/(\.ssh|\.aws|\.gnupg|\.kube|\.docker)\//;

export function looksLikeSecretPath(path: string): boolean {
  if (PUBLIC_KEYRINGS.test(path)) return false;
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (SECRET_BASENAMES.has(base)) return true;
  // Public halves and certificates are not secrets.
  if (/\.pub$|\.crt$|\.cer$/i.test(base)) return false;
  return SECRET_SUFFIX.test(base) || (SECRET_DIRS.test(path) && !/known_hosts$/.test(base));
}

export function reviewReasons(path: string, e: { type: EntryType; mode: number }): ReviewReason[] {
  const out: ReviewReason[] = [];
  const regular = e.type === 'file' || e.type === 'hardlink';
  if (regular && e.mode & 0o4000) out.push('setuid');
  if (regular && e.mode & 0o2000) out.push('setgid');
  // Symlinks are 0777 by nature; a sticky world-writable directory (/tmp) is the norm.
  if (e.type !== 'symlink' && e.mode & 0o002 && !(e.type === 'dir' && e.mode & 0o1000)) out.push('world-writable');
  if (regular && looksLikeSecretPath(path)) out.push('secret');
  if (regular && ACCOUNT_FILES.has(path)) out.push('account-file');
  if (regular && e.mode & 0o111 && PATH_DIRS.has(path.slice(0, path.lastIndexOf('/')))) out.push('executable-in-path');
  return out;
}
