/**
 * The accounts scanner: a cataloger that reads `/etc/passwd`, `/etc/group`
 * and `/etc/shadow` during the layer pass and records names, ids and, for
 * shadow, only whether each password is empty, locked or set (never a hash).
 */
import type { Cataloger, ParseResult } from '../../packages/catalog/types.js';
import type { AccountsFinding, GroupEntry, PasswdEntry, ShadowEntry } from './types.js';

export const ACCOUNT_FILES = { '/etc/passwd': 'passwd', '/etc/group': 'group', '/etc/shadow': 'shadow' } as const;
export type AccountFile = (typeof ACCOUNT_FILES)[keyof typeof ACCOUNT_FILES];
/** Records kept per file. */
export const MAX_ACCOUNTS = 10_000;
/** Account files are small; a larger one is not read (the cataloguer warns). */
export const ACCOUNTS_MAX_BYTES = 4 << 20;

export const accountsCataloger: Cataloger = {
  name: 'accounts',
  maxBytes: ACCOUNTS_MAX_BYTES,
  hint: { basenames: ['passwd', 'group', 'shadow'] },
  wants(path) {
    return path === '/etc/passwd' || path === '/etc/group' || path === '/etc/shadow';
  },
  parse(path, data): ParseResult {
    const file = ACCOUNT_FILES[path as keyof typeof ACCOUNT_FILES];
    if (!file) return { packages: [], warnings: [] };
    return { packages: [], warnings: [], accounts: parseAccounts(file, data.toString('utf8')) };
  },
};

const ID = /^\d{1,10}$/;

/** Parse one account file. Comments, blank lines and NIS `+`/`-` entries are skipped; bad records are counted. */
export function parseAccounts(file: AccountFile, text: string): AccountsFinding {
  const out: AccountsFinding = { file, malformed: 0 };
  const passwd: PasswdEntry[] = [];
  const group: GroupEntry[] = [];
  const shadow: ShadowEntry[] = [];
  const lines = text.split('\n');
  let kept = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    if (kept >= MAX_ACCOUNTS) {
      out.truncated = true;
      break;
    }
    const f = line.split(':');
    const name = f[0]!;
    if (name === '' || /\s/.test(name)) {
      out.malformed++;
      continue;
    }
    if (file === 'passwd') {
      if (f.length < 7 || !ID.test(f[2]!) || !ID.test(f[3]!)) {
        out.malformed++;
        continue;
      }
      const e: PasswdEntry = { name, uid: Number(f[2]), gid: Number(f[3]), line: i + 1 };
      if (f[1] === '') e.emptyPassword = true;
      passwd.push(e);
    } else if (file === 'group') {
      if (f.length < 3 || !ID.test(f[2]!)) {
        out.malformed++;
        continue;
      }
      group.push({ name, gid: Number(f[2]), line: i + 1 });
    } else {
      if (f.length < 2) {
        out.malformed++;
        continue;
      }
      shadow.push({ name, line: i + 1, state: shadowState(f[1]!) });
    }
    kept++;
  }
  if (file === 'passwd') out.passwd = passwd;
  else if (file === 'group') out.group = group;
  else out.shadow = shadow;
  return out;
}

/** `''`: no password; `!…`/`*…` or anything that cannot be a crypt(3) hash: locked; otherwise a hash is set. */
function shadowState(pw: string): ShadowEntry['state'] {
  if (pw === '') return 'empty';
  if (pw.startsWith('!') || pw.startsWith('*')) return 'locked';
  // Modern hashes start with `$id$`; traditional DES is 13 characters of [./0-9A-Za-z].
  if (pw.startsWith('$') || /^[./0-9A-Za-z]{13}$/.test(pw)) return 'set';
  return 'locked';
}
