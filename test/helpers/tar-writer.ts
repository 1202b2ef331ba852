/**
 * A tiny tar writer for tests: valid archives (ustar, PAX, GNU long names) and
 * deliberately broken ones (bad checksums, lying sizes, base-256, raw bytes).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Layer } from '../../src/core/sources/image.js';
import type { Compression } from '../../src/core/oci/mediatypes.js';

export type SpecType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface EntrySpec {
  name: string;
  type?: SpecType;
  /** Raw typeflag character, overriding `type`. */
  typeflag?: string;
  data?: Buffer | string;
  /** Declared size, overriding data.length (a lie when they differ). */
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** How a name or link target longer than 100 bytes is written. Default 'pax'. */
  long?: 'pax' | 'gnu' | 'prefix';
  /** Extra PAX records for this entry (written in an 'x' header). */
  pax?: Record<string, string>;
  /** Encode size, uid and gid in GNU base-256. */
  base256?: boolean;
  /** Override the header checksum. */
  checksum?: number;
  /** 'gnu' writes the old GNU magic ("ustar  \0"); 'v7' writes no magic. */
  format?: 'ustar' | 'gnu' | 'v7';
}

const TYPEFLAG: Record<SpecType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

function octal(buf: Buffer, off: number, width: number, value: number): void {
  buf.write(value.toString(8).padStart(width - 1, '0') + '\0', off, width, 'latin1');
}

function base256(buf: Buffer, off: number, width: number, value: number): void {
  let v = BigInt(value);
  for (let i = width - 1; i > 0; i--) {
    buf[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  buf[off] = 0x80;
}

/** One 512-byte header block. */
export function header(h: { name: string; typeflag: string; size: number; mode?: number; uid?: number; gid?: number; mtime?: number; linkname?: string; devmajor?: number; devminor?: number; prefix?: string; base256?: boolean; checksum?: number; format?: 'ustar' | 'gnu' | 'v7' }): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode ?? 0o644);
  const num = h.base256 ? base256 : octal;
  num(b, 108, 8, h.uid ?? 0);
  num(b, 116, 8, h.gid ?? 0);
  num(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime ?? 1700000000);
  b.write(h.typeflag, 156, 1, 'latin1');
  b.write(h.linkname ?? '', 157, 100, 'utf8');
  const format = h.format ?? 'ustar';
  if (format === 'ustar') b.write('ustar\u000000', 257, 8, 'latin1');
  if (format === 'gnu') b.write('ustar  \u0000', 257, 8, 'latin1');
  if (format !== 'v7') {
    octal(b, 329, 8, h.devmajor ?? 0);
    octal(b, 337, 8, h.devminor ?? 0);
  }
  if (h.prefix) b.write(h.prefix, 345, 155, 'utf8');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  octal(b, 148, 7, h.checksum ?? sum);
  b[155] = 0x20;
  return b;
}

export function pad(n: number): Buffer {
  return Buffer.alloc((512 - (n % 512)) % 512);
}

/** PAX records "LEN key=value\n", with LEN counting itself. */
export function paxRecords(records: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    const bodyLen = Buffer.byteLength(body);
    let len = bodyLen + 1;
    while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
    parts.push(Buffer.from(`${len}${body}`));
  }
  return Buffer.concat(parts);
}

/** A metadata entry ('x', 'g', 'L', 'K') carrying `data`. */
export function metaEntry(typeflag: string, data: Buffer, name = '././@PaxHeader'): Buffer {
  return Buffer.concat([header({ name, typeflag, size: data.length }), data, pad(data.length)]);
}

/** The blocks of one entry: extension headers, header, data, padding. */
export function entry(s: EntrySpec): Buffer {
  const data = typeof s.data === 'string' ? Buffer.from(s.data) : (s.data ?? Buffer.alloc(0));
  const size = s.size ?? data.length;
  const typeflag = s.typeflag ?? TYPEFLAG[s.type ?? 'file'];
  const parts: Buffer[] = [];
  const pax: Record<string, string> = { ...(s.pax ?? {}) };
  let name = s.name;
  let prefix: string | undefined;
  let linkname = s.linkname ?? '';
  const long = s.long ?? 'pax';
  if (Buffer.byteLength(name) > 100) {
    if (long === 'gnu') parts.push(metaEntry('L', Buffer.from(name + '\0'), '././@LongLink'));
    else if (long === 'prefix') {
      const cut = name.lastIndexOf('/', 155);
      prefix = name.slice(0, cut);
      name = name.slice(cut + 1);
    } else pax.path = name;
    if (long !== 'prefix') name = name.slice(0, 100);
  }
  if (Buffer.byteLength(linkname) > 100) {
    if (long === 'gnu') parts.push(metaEntry('K', Buffer.from(linkname + '\0'), '././@LongLink'));
    else pax.linkpath = linkname;
    linkname = linkname.slice(0, 100);
  }
  if (Object.keys(pax).length > 0) parts.push(metaEntry('x', paxRecords(pax)));
  parts.push(
    header({
      name,
      typeflag,
      size,
      linkname,
      ...(prefix !== undefined ? { prefix } : {}),
      ...(s.mode !== undefined ? { mode: s.mode } : {}),
      ...(s.uid !== undefined ? { uid: s.uid } : {}),
      ...(s.gid !== undefined ? { gid: s.gid } : {}),
      ...(s.mtime !== undefined ? { mtime: s.mtime } : {}),
      ...(s.devmajor !== undefined ? { devmajor: s.devmajor } : {}),
      ...(s.devminor !== undefined ? { devminor: s.devminor } : {}),
      ...(s.base256 ? { base256: true } : {}),
      ...(s.checksum !== undefined ? { checksum: s.checksum } : {}),
      ...(s.format ? { format: s.format } : {}),
    }),
  );
  parts.push(data, pad(data.length));
  return Buffer.concat(parts);
}

export const END = Buffer.alloc(1024);

/** A whole archive; `end` chooses the end marker (default: two zero blocks). */
export function tar(entries: Array<EntrySpec | Buffer>, end: 'marker' | 'single' | 'none' = 'marker'): Buffer {
  const parts = entries.map((e) => (Buffer.isBuffer(e) ? e : entry(e)));
  if (end === 'marker') parts.push(END);
  if (end === 'single') parts.push(Buffer.alloc(512));
  return Buffer.concat(parts);
}

export function sha256(b: Uint8Array): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/**
 * A Layer over in-memory bytes. `diffId` defaults to the sha256 of `tarBytes`
 * (pass the uncompressed tar when `stored` is compressed); `chunk` splits the
 * stream to exercise chunk boundaries.
 */
export function memoryLayer(stored: Buffer, o: { diffId?: string; tarBytes?: Buffer; compression?: Compression; chunk?: number; mediaType?: string } = {}): Layer {
  const digest = sha256(stored);
  return {
    digest,
    diffId: o.diffId ?? sha256(o.tarBytes ?? stored),
    mediaType: o.mediaType ?? 'application/vnd.oci.image.layer.v1.tar',
    size: stored.length,
    compression: o.compression,
    async open() {
      const chunk = o.chunk ?? 65536;
      const parts: Buffer[] = [];
      for (let i = 0; i < stored.length; i += chunk) parts.push(stored.subarray(i, i + chunk));
      return Readable.from(parts, { objectMode: false });
    },
  };
}
