/**
 * Go binaries: the module list Go embeds in every binary built with module
 * support, read from the ELF section `.go.buildinfo` (or, without section
 * headers, found by its magic in the file) in the inline-string format of
 * Go ≥ 1.18 (cmd/go/internal/version, debug/buildinfo):
 *
 *   "\xff Go buildinf:" | ptrSize:u8 | flags:u8 | pad to 32 | uvarint len + runtime version | uvarint len + modinfo
 *
 * modinfo is "path/mod/dep/=>/build" lines between two 16-byte sentinels.
 * Older binaries (pointer format) get a warning.
 */
import type { Cataloger, FoundPackage, ParseResult } from './types.js';
import { q } from './util.js';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const FLAGS_INLINE = 0x2;
const SCRIPT_EXT = /\.(sh|bash|py|pl|rb|js|mjs|cjs|php|lua|tcl|awk|sed)$/;
/**
 * Executables known not to be Go (C/C++/Rust/Zig language runtimes), and shared
 * libraries: reading them whole (node is 40+ MB) costs memory in the pass for
 * nothing, since the walk's content hook collects whole files.
 */
const NOT_GO = /\/(node|nodejs|python\d*(\.\d+)*m?|perl(\d+(\.\d+)*)?|ruby\d*(\.\d+)*|php(\d+(\.\d+)*)?(-fpm)?|java|bun|deno)$|\.so(\.\d+)*$/;

export const goCataloger: Cataloger = {
  name: 'go-binary',
  maxBytes: 64 << 20,
  hint: { executables: true },
  wants(path, e) {
    // Executables only (any x bit), not tiny ones (no Go binary is under 100 KiB), not scripts or known non-Go runtimes by name.
    return (e.mode & 0o111) !== 0 && e.size >= 100 * 1024 && !SCRIPT_EXT.test(path) && !NOT_GO.test(path);
  },
  parse(path, data) {
    return parseGoBinary(data, path);
  },
};

export interface GoBuildInfo {
  goVersion: string;
  path: string | null;
  main: { path: string; version: string; sum: string | null } | null;
  deps: Array<{ path: string; version: string; sum: string | null; replacedBy?: { path: string; version: string } }>;
  settings: Record<string, string>;
}

/** The buildinfo blob of an ELF file: the `.go.buildinfo` section, else the magic found at a 16-byte boundary. */
export function findBuildInfoBlob(data: Buffer): Buffer | null {
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) return null;
  const sec = elfSection(data, '.go.buildinfo');
  if (sec) return sec.subarray(0, 32).indexOf(MAGIC) === 0 ? sec : null;
  let at = data.indexOf(MAGIC);
  while (at >= 0 && at % 16 !== 0) at = data.indexOf(MAGIC, at + 1);
  return at >= 0 ? data.subarray(at) : null;
}

/** A named section's bytes, or null (no section headers, no such section, or headers out of bounds). */
export function elfSection(data: Buffer, name: string): Buffer | null {
  const is64 = data[4] === 2;
  const le = data[5] !== 2;
  const u16 = (o: number): number => (le ? data.readUInt16LE(o) : data.readUInt16BE(o));
  const u32 = (o: number): number => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const u64 = (o: number): number => {
    const v = le ? data.readBigUInt64LE(o) : data.readBigUInt64BE(o);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  const word = is64 ? u64 : u32;
  const shoff = word(is64 ? 0x28 : 0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const shstrndx = u16(is64 ? 0x3e : 0x32);
  if (shoff === 0 || shnum === 0 || shentsize < (is64 ? 64 : 40) || shoff + shnum * shentsize > data.length || shstrndx >= shnum) return null;
  const sh = (i: number): { name: number; offset: number; size: number; type: number } => {
    const o = shoff + i * shentsize;
    return is64
      ? { name: u32(o), type: u32(o + 4), offset: u64(o + 24), size: u64(o + 32) }
      : { name: u32(o), type: u32(o + 4), offset: u32(o + 16), size: u32(o + 20) };
  };
  const strtab = sh(shstrndx);
  if (strtab.offset + strtab.size > data.length) return null;
  const want = Buffer.from(`${name}\0`, 'latin1');
  for (let i = 0; i < shnum; i++) {
    const s = sh(i);
    if (s.name + want.length > strtab.size) continue;
    const at = strtab.offset + s.name;
    if (data.compare(want, 0, want.length, at, at + want.length) !== 0) continue;
    if (s.type === 8 /* SHT_NOBITS */ || s.offset + s.size > data.length) return null;
    return data.subarray(s.offset, s.offset + s.size);
  }
  return null;
}

function uvarint(b: Buffer, at: number): [number, number] | null {
  let x = 0;
  let mul = 1;
  for (let i = 0; i < 10 && at + i < b.length; i++) {
    const c = b[at + i]!;
    x += (c & 0x7f) * mul;
    if (c < 0x80) return [x, at + i + 1];
    mul *= 128;
    if (x > Number.MAX_SAFE_INTEGER / 256) return null;
  }
  return null;
}

/** Decode the blob; throws a short message when it is malformed, returns 'old' for the pre-1.18 pointer format. */
export function decodeBuildInfo(blob: Buffer): GoBuildInfo | 'old' {
  if (blob.length < 32 || blob.indexOf(MAGIC) !== 0) throw new Error('no buildinfo magic');
  const flags = blob[15]!;
  if ((flags & FLAGS_INLINE) === 0) return 'old';
  const a = uvarint(blob, 32);
  if (!a || a[1] + a[0] > blob.length) throw new Error('buildinfo version string truncated');
  const goVersion = blob.toString('utf8', a[1], a[1] + a[0]);
  const b = uvarint(blob, a[1] + a[0]);
  if (!b || b[1] + b[0] > blob.length) throw new Error('buildinfo module info truncated');
  let mod = blob.toString('utf8', b[1], b[1] + b[0]);
  // Strip the 16-byte sentinels around modinfo (runtime/debug.modinfo).
  if (mod.length >= 33 && mod[mod.length - 17] === '\n') mod = mod.slice(16, -16);
  return parseModInfo(goVersion, mod);
}

export function parseModInfo(goVersion: string, mod: string): GoBuildInfo {
  const info: GoBuildInfo = { goVersion, path: null, main: null, deps: [], settings: {} };
  let last: GoBuildInfo['deps'][number] | null = null;
  for (const line of mod.split('\n')) {
    const f = line.split('\t');
    switch (f[0]) {
      case 'path':
        info.path = f[1] ?? null;
        break;
      case 'mod':
        if (f[1]) info.main = { path: f[1], version: f[2] || '(devel)', sum: f[3] || null };
        break;
      case 'dep':
        if (f[1] && f[2]) {
          last = { path: f[1], version: f[2], sum: f[3] || null };
          info.deps.push(last);
        } else last = null;
        break;
      case '=>':
        if (f[1] && last) last.replacedBy = { path: f[1], version: f[2] || '' };
        break;
      case 'build': {
        const kv = f.slice(1).join('\t');
        const eq = kv.indexOf('=');
        if (eq > 0) info.settings[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
    }
  }
  return info;
}

export function parseGoBinary(data: Buffer, path: string): ParseResult {
  let blob: Buffer | null;
  try {
    blob = findBuildInfoBlob(data);
  } catch {
    return { packages: [], warnings: [] }; // not an ELF we can read: not a Go binary as far as we can tell
  }
  if (!blob) return { packages: [], warnings: [] };
  let info: GoBuildInfo | 'old';
  try {
    info = decodeBuildInfo(blob);
  } catch (e) {
    return { packages: [], warnings: [`${path}: Go build info unreadable: ${(e as Error).message}`] };
  }
  if (info === 'old') return { packages: [], warnings: [`${path}: Go binary built before Go 1.18 (pointer-format build info); modules not catalogued`] };
  const packages: FoundPackage[] = [];
  const common: Record<string, string> = { goVersion: info.goVersion };
  if (info.main) common.mainModule = info.main.path;
  if (info.main) {
    packages.push({ name: info.main.path, version: info.main.version, type: 'golang', licenses: [], metadata: { ...common, ...(info.main.sum ? { h1Digest: info.main.sum } : {}), role: 'main' } });
  } else if (info.path) {
    // Built without module support (GOPATH / go run): only the command path is known.
    common.commandPath = info.path;
  }
  for (const d of info.deps) {
    const name = d.replacedBy?.path ?? d.path;
    const version = d.replacedBy ? d.replacedBy.version || '(devel)' : d.version;
    const m: Record<string, string> = { ...common };
    if (d.sum && !d.replacedBy) m.h1Digest = d.sum;
    if (d.replacedBy) m.replaces = `${d.path}@${d.version}`;
    packages.push({ name, version, type: 'golang', licenses: [], metadata: m });
  }
  if (/^go\d/.test(info.goVersion)) {
    packages.push({ name: 'stdlib', version: info.goVersion.split(/\s/, 1)[0]!, type: 'golang', licenses: ['BSD-3-Clause'], metadata: { ...common } });
  } else if (info.goVersion !== '') {
    return { packages, warnings: [`${path}: Go build info has an unexpected runtime version ${q(info.goVersion)}`] };
  }
  return { packages, warnings: [] };
}
