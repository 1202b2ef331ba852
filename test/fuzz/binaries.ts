/**
 * Small binary formats built for the package-database targets: zip/jar
 * archives (stored or deflated, nested), ELF files carrying Go build info,
 * rpm header blobs. Valid by construction; the targets mutate them.
 */

export { zip } from '../helpers/zip-writer.js';

function uvarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A Go ≥1.18 inline buildinfo blob. */
export function buildInfoBlob(goVersion: string, mod: string, flags = 0x2): Buffer {
  const head = Buffer.alloc(32);
  Buffer.from('\xff Go buildinf:', 'latin1').copy(head);
  head[14] = 8;
  head[15] = flags;
  const v = Buffer.from(goVersion);
  const m = Buffer.from(mod);
  return Buffer.concat([head, uvarint(v.length), v, uvarint(m.length), m]);
}

/** A minimal ELF64 (little or big endian) with .text, .go.buildinfo and .shstrtab sections, or none. */
export function elfWith(blob: Buffer, withSections: boolean, bigEndian = false): Buffer {
  const text = Buffer.alloc(64, 0x90);
  const shstr = Buffer.from('\0.text\0.go.buildinfo\0.shstrtab\0', 'latin1');
  const textOff = 64;
  const biOff = Math.ceil((textOff + text.length) / 16) * 16;
  const strOff = biOff + blob.length;
  const shoff = Math.ceil((strOff + shstr.length) / 8) * 8;
  const shnum = 4;
  const out = Buffer.alloc(shoff + (withSections ? shnum * 64 : 0));
  const w16 = (v: number, o: number) => (bigEndian ? out.writeUInt16BE(v, o) : out.writeUInt16LE(v, o));
  const w32 = (v: number, o: number) => (bigEndian ? out.writeUInt32BE(v, o) : out.writeUInt32LE(v, o));
  const w64 = (v: number, o: number) => (bigEndian ? out.writeBigUInt64BE(BigInt(v), o) : out.writeBigUInt64LE(BigInt(v), o));
  out.write('\x7fELF', 0, 'latin1');
  out[4] = 2;
  out[5] = bigEndian ? 2 : 1;
  out[6] = 1;
  w16(2, 16);
  w16(62, 18);
  w32(1, 20);
  w64(withSections ? shoff : 0, 0x28);
  w16(64, 0x34);
  w16(64, 0x3a);
  w16(withSections ? shnum : 0, 0x3c);
  w16(withSections ? 3 : 0, 0x3e);
  text.copy(out, textOff);
  blob.copy(out, biOff);
  shstr.copy(out, strOff);
  if (withSections) {
    const sec = (i: number, name: number, type: number, off: number, size: number): void => {
      const o = shoff + i * 64;
      w32(name, o);
      w32(type, o + 4);
      w64(off, o + 24);
      w64(size, o + 32);
    };
    sec(1, 1, 1, textOff, text.length);
    sec(2, 7, 1, biOff, blob.length);
    sec(3, 21, 3, strOff, shstr.length);
  }
  return out;
}

/** An rpm header blob as rpmdb stores it (no magic): index entries, then the data store. */
export function rpmHeader(tags: Array<{ tag: number; value: string | number }>): Buffer {
  const index: Buffer[] = [];
  const data: Buffer[] = [];
  let off = 0;
  for (const t of tags) {
    let d: Buffer;
    let type: number;
    if (typeof t.value === 'number') {
      // int32 data is 4-byte aligned in the store.
      const pad = (4 - (off % 4)) % 4;
      if (pad) {
        data.push(Buffer.alloc(pad));
        off += pad;
      }
      d = Buffer.alloc(4);
      d.writeUInt32BE(t.value >>> 0);
      type = 4;
    } else {
      d = Buffer.from(`${t.value}\0`);
      type = 6;
    }
    const e = Buffer.alloc(16);
    e.writeUInt32BE(t.tag, 0);
    e.writeUInt32BE(type, 4);
    e.writeUInt32BE(off, 8);
    e.writeUInt32BE(1, 12);
    index.push(e);
    data.push(d);
    off += d.length;
  }
  const head = Buffer.alloc(8);
  head.writeUInt32BE(tags.length, 0);
  head.writeUInt32BE(off, 4);
  return Buffer.concat([head, ...index, ...data]);
}
