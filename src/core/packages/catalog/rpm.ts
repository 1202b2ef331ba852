/**
 * RPM: the sqlite rpmdb of Fedora 33+, RHEL/UBI 9 (`rpmdb.sqlite`, table
 * `Packages(hnum, blob)`), read with sql.js; each blob is an rpm header
 * ("header image" without the magic: index length, data length, index
 * entries, data store). Berkeley DB (`Packages`) and ndb (`Packages.db`)
 * databases are not read: they come out as a warning, never silently.
 */
import type { Cataloger, FoundPackage, ParseResult } from './types.js';
import { errMsg } from './util.js';

const DB_DIRS = ['/var/lib/rpm/', '/usr/lib/sysimage/rpm/', '/usr/share/rpm/'];
const UNSUPPORTED: Record<string, string> = { Packages: 'Berkeley DB', 'Packages.db': 'ndb' };

function rpmDbFile(path: string): string | null {
  for (const d of DB_DIRS) {
    if (path.startsWith(d)) {
      const rest = path.slice(d.length);
      return rest.includes('/') ? null : rest;
    }
  }
  return null;
}

export const rpmCataloger: Cataloger = {
  name: 'rpm',
  maxBytes: 256 << 20,
  hint: { basenames: ['rpmdb.sqlite', ...Object.keys(UNSUPPORTED)] },
  wants(path) {
    return rpmDbFile(path) === 'rpmdb.sqlite';
  },
  note(path) {
    const f = rpmDbFile(path);
    const format = f === null ? undefined : UNSUPPORTED[f];
    return format ? { packages: [], warnings: [`${path}: rpmdb format ${format} not catalogued (only the sqlite rpmdb is read)`] } : undefined;
  },
  parse(path, data) {
    return parseRpmSqlite(data, path);
  },
};

type SqlJs = Awaited<ReturnType<typeof import('sql.js').default>>;
let sqlJs: Promise<SqlJs> | undefined;
function loadSqlJs(): Promise<SqlJs> {
  sqlJs ??= import('sql.js').then((m) => m.default());
  return sqlJs;
}

export async function parseRpmSqlite(data: Buffer, path: string): Promise<ParseResult> {
  const warnings: string[] = [];
  const packages: FoundPackage[] = [];
  let SQL: SqlJs;
  try {
    SQL = await loadSqlJs();
  } catch (e) {
    return { packages, warnings: [`${path}: sqlite engine unavailable: ${errMsg(e)}`] };
  }
  // A WAL-mode file (header bytes 18/19 = 2) read from memory: mark it rollback-journal, as the WAL itself is not here.
  const bytes = new Uint8Array(data);
  if (bytes.length >= 100 && bytes[18] === 2 && bytes[19] === 2) {
    bytes[18] = 1;
    bytes[19] = 1;
  }
  let db: InstanceType<SqlJs['Database']> | undefined;
  try {
    db = new SQL.Database(bytes);
    const stmt = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum');
    try {
      while (stmt.step()) {
        const [hnum, blob] = stmt.get() as [number, Uint8Array | null];
        const where = `record hnum=${hnum}`;
        if (!(blob instanceof Uint8Array)) {
          warnings.push(`${path}: ${where}: no header blob; record skipped`);
          continue;
        }
        try {
          const h = parseRpmHeader(Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
          const pkg = headerToPackage(h);
          if (pkg === 'pubkey') continue;
          if (pkg === null) {
            warnings.push(`${path}: ${where}: header has no name or version; record skipped`);
            continue;
          }
          packages.push(pkg);
        } catch (e) {
          warnings.push(`${path}: ${where}: ${errMsg(e)}; record skipped`);
        }
      }
    } finally {
      stmt.free();
    }
  } catch (e) {
    warnings.push(`${path}: not a readable sqlite rpmdb: ${errMsg(e)}`);
  } finally {
    db?.close();
  }
  return { packages, warnings };
}

export const RPMTAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  ARCH: 1022,
  SOURCERPM: 1044,
} as const;

const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;

/** Tag → value (strings and the first int32) of the tags we read. */
export type RpmHeader = Map<number, string | number>;

const WANTED = new Set<number>(Object.values(RPMTAG));
const MAX_INDEX = 1 << 16;

/** Parse an rpm header blob (as rpmdb stores it: no magic). Throws a short message for anything malformed. */
export function parseRpmHeader(blob: Buffer): RpmHeader {
  if (blob.length < 8) throw new Error(`header truncated (${blob.length} bytes)`);
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  if (il < 1 || il > MAX_INDEX) throw new Error(`header index count ${il} out of range`);
  const dataStart = 8 + il * 16;
  if (dataStart + dl > blob.length) throw new Error(`header truncated: ${il} entries and ${dl} data bytes need ${dataStart + dl}, have ${blob.length}`);
  const out: RpmHeader = new Map();
  for (let i = 0; i < il; i++) {
    const o = 8 + i * 16;
    const tag = blob.readUInt32BE(o);
    if (!WANTED.has(tag)) continue;
    const type = blob.readUInt32BE(o + 4);
    const offset = blob.readUInt32BE(o + 8);
    const count = blob.readUInt32BE(o + 12);
    if (offset >= dl) throw new Error(`tag ${tag}: data offset ${offset} beyond the data store (${dl})`);
    const at = dataStart + offset;
    const end = dataStart + dl;
    if (type === TYPE_STRING || type === TYPE_STRING_ARRAY || type === TYPE_I18NSTRING) {
      if (count < 1) continue;
      const nul = blob.indexOf(0, at);
      if (nul < 0 || nul >= end) throw new Error(`tag ${tag}: unterminated string`);
      out.set(tag, blob.toString('utf8', at, nul));
    } else if (type === TYPE_INT32) {
      if (count < 1 || at + 4 > end) throw new Error(`tag ${tag}: int32 beyond the data store`);
      out.set(tag, blob.readUInt32BE(at));
    }
  }
  return out;
}

function headerToPackage(h: RpmHeader): FoundPackage | null | 'pubkey' {
  const name = h.get(RPMTAG.NAME);
  const version = h.get(RPMTAG.VERSION);
  if (typeof name !== 'string' || typeof version !== 'string' || name === '' || version === '') return null;
  // gpg-pubkey entries are imported signing keys, not packages.
  if (name === 'gpg-pubkey') return 'pubkey';
  const release = h.get(RPMTAG.RELEASE);
  const epoch = h.get(RPMTAG.EPOCH);
  const arch = h.get(RPMTAG.ARCH);
  const license = h.get(RPMTAG.LICENSE);
  const metadata: Record<string, string> = {};
  if (typeof release === 'string' && release !== '') metadata.release = release;
  if (typeof epoch === 'number') metadata.epoch = String(epoch);
  if (typeof arch === 'string' && arch !== '') metadata.arch = arch;
  const src = h.get(RPMTAG.SOURCERPM);
  if (typeof src === 'string' && src !== '' && src !== '(none)') metadata.sourceRpm = src;
  const vendor = h.get(RPMTAG.VENDOR);
  if (typeof vendor === 'string' && vendor !== '') metadata.vendor = vendor;
  const full = metadata.release ? `${version}-${metadata.release}` : version;
  return {
    name,
    // The version as rpm prints it (epoch:version-release), the epoch also in metadata.
    version: metadata.epoch && metadata.epoch !== '0' ? `${metadata.epoch}:${full}` : full,
    type: 'rpm',
    licenses: typeof license === 'string' && license !== '' ? [license] : [],
    metadata,
  };
}
