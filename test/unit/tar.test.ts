import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TarParser, type TarHeader } from '../../src/core/layers/tar.js';
import { VouchError } from '../../src/core/errors.js';
import { END, entry, header, metaEntry, pad, paxRecords, tar } from '../helpers/tar-writer.js';

interface Parsed {
  headers: TarHeader[];
  contents: Map<string, string>;
  parser: TarParser;
}

/** Parses `bytes` fed in chunks of `chunk` bytes; collects the content of entries named in `want`. */
function parse(bytes: Buffer, o: { chunk?: number; want?: (h: TarHeader) => boolean; maxContentBytes?: number; maxPaxBytes?: number; maxPathBytes?: number } = {}): Parsed {
  const headers: TarHeader[] = [];
  const contents = new Map<string, string>();
  const parser = new TarParser({
    what: 'layer sha256:test',
    onEntry: (h) => {
      headers.push(h);
      return o.want?.(h) ?? false;
    },
    onContent: (h, d) => contents.set(h.name, d.toString()),
    ...(o.maxContentBytes !== undefined ? { maxContentBytes: o.maxContentBytes } : {}),
    ...(o.maxPaxBytes !== undefined ? { maxPaxBytes: o.maxPaxBytes } : {}),
    ...(o.maxPathBytes !== undefined ? { maxPathBytes: o.maxPathBytes } : {}),
  });
  const chunk = o.chunk ?? bytes.length;
  for (let i = 0; i < bytes.length; i += Math.max(1, chunk)) parser.write(bytes.subarray(i, i + Math.max(1, chunk)));
  parser.end();
  return { headers, contents, parser };
}

function rejects(bytes: Buffer, code: 'INVALID_TAR' | 'LIMIT_EXCEEDED', pattern: RegExp, o: Parameters<typeof parse>[1] = {}): void {
  assert.throws(
    () => parse(bytes, o),
    (e: unknown) => {
      assert.ok(e instanceof VouchError, `not a VouchError: ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, /layer sha256:test/);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('ustar entries: fields, types and content collection', () => {
  const bytes = tar([
    { name: 'etc/', type: 'dir', mode: 0o755 },
    { name: 'etc/passwd', data: 'root:x:0:0\n', mode: 0o644, uid: 0, gid: 0, mtime: 1234567890 },
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    { name: 'bin/ls', type: 'hardlink', linkname: 'bin/busybox' },
    { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3 },
    { name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0 },
    { name: 'run/fifo', type: 'fifo' },
    { name: 'usr/bin/sudo', data: 'x', mode: 0o4755, uid: 1000, gid: 1001 },
  ]);
  const { headers, contents, parser } = parse(bytes, { want: (h) => h.name === 'etc/passwd' });
  assert.deepEqual(
    headers.map((h) => [h.name, h.typeflag, h.size]),
    [['etc/', '5', 0], ['etc/passwd', '0', 11], ['bin/sh', '2', 0], ['bin/ls', '1', 0], ['dev/null', '3', 0], ['dev/sda', '4', 0], ['run/fifo', '6', 0], ['usr/bin/sudo', '0', 1]],
  );
  assert.equal(headers[1]!.mtime, 1234567890);
  assert.equal(headers[2]!.linkname, 'busybox');
  assert.deepEqual([headers[4]!.devmajor, headers[4]!.devminor], [1, 3]);
  assert.equal(headers[7]!.mode, 0o4755);
  assert.deepEqual([headers[7]!.uid, headers[7]!.gid], [1000, 1001]);
  assert.deepEqual([...contents], [['etc/passwd', 'root:x:0:0\n']]);
  assert.equal(parser.endedWith, 'marker');
  assert.equal(parser.entries, 8);
  assert.equal(headers[1]!.offset, 512);
});

test('chunk boundaries do not matter (1, 7, 511, 512, 513 byte chunks)', () => {
  const bytes = tar([
    { name: 'a', data: 'x'.repeat(1000) },
    { name: 'p'.repeat(150), data: 'long' },
    { name: 'b', data: 'y'.repeat(512) },
  ]);
  const whole = parse(bytes, { want: () => true });
  for (const chunk of [1, 7, 511, 512, 513]) {
    const r = parse(bytes, { chunk, want: () => true });
    assert.deepEqual(r.headers, whole.headers);
    assert.deepEqual([...r.contents], [...whole.contents]);
  }
  assert.equal(whole.contents.get('a'), 'x'.repeat(1000));
});

test('ustar prefix field, GNU long name and long link, PAX path and linkpath', () => {
  const long = `${'dir/'.repeat(40)}file`;
  const target = `${'t/'.repeat(70)}target`;
  const { headers } = parse(
    tar([
      { name: long, long: 'prefix' },
      { name: long, long: 'gnu' },
      { name: `${long}-link`, type: 'symlink', linkname: target, long: 'gnu' },
      { name: `${long}-pax`, type: 'symlink', linkname: target, long: 'pax' },
      { name: 'after' },
    ]),
  );
  assert.deepEqual(
    headers.map((h) => [h.name, h.linkname]),
    [[long, ''], [long, ''], [`${long}-link`, target], [`${long}-pax`, target], ['after', '']],
  );
  // The extension headers belong to their entry: offsets point at the first header of each.
  assert.equal(headers[1]!.offset, 512);
  assert.equal(headers[2]!.offset, 2048);
});

test('old GNU format: the prefix area is atime/ctime, read as a prefix only when they do not parse (as Go); v7 headers parse', () => {
  const gnu = header({ name: 'gnu-file', typeflag: '0', size: 0, format: 'gnu', prefix: '14571375515\u000014571375515' });
  const buggy = header({ name: 'gnu-file', typeflag: '0', size: 0, format: 'gnu', prefix: 'garbage' });
  const v7 = header({ name: 'v7-file', typeflag: '0', size: 0, format: 'v7' });
  const { headers } = parse(Buffer.concat([gnu, buggy, v7, END]));
  assert.deepEqual(headers.map((h) => h.name), ['gnu-file', 'garbage/gnu-file', 'v7-file']);
});

test('a NUL typeflag with a trailing slash is a directory (old archives)', () => {
  const { headers } = parse(Buffer.concat([header({ name: 'olddir/', typeflag: '\0', size: 0, format: 'v7' }), END]));
  assert.equal(headers[0]!.typeflag, '5');
});

test('PAX overrides size, uid, gid and mtime; xattrs are named', () => {
  const data = Buffer.alloc(3000, 0x61);
  const bytes = tar([
    {
      name: 'big',
      data,
      size: 0o7, // the header lies; PAX says the truth
      pax: { size: '3000', uid: '3000000', gid: '4000000', mtime: '1700000000.123456789', 'SCHILY.xattr.security.capability': '\u0001\u0002', atime: '1.5' },
    },
    { name: 'next', data: 'n' },
  ]);
  const { headers, contents } = parse(bytes, { want: () => true });
  assert.equal(headers[0]!.size, 3000);
  assert.deepEqual([headers[0]!.uid, headers[0]!.gid, headers[0]!.mtime], [3000000, 4000000, 1700000000]);
  assert.deepEqual(headers[0]!.xattrs, ['security.capability']);
  assert.equal(contents.get('big')!.length, 3000);
  assert.equal(contents.get('next'), 'n');
  assert.equal(headers[1]!.xattrs, undefined);
});

test('PAX global headers are validated but, as in Go, not applied to later entries', () => {
  const bytes = Buffer.concat([
    entry({ name: 'before' }),
    metaEntry('g', paxRecords({ uid: '42', gid: '43' })),
    entry({ name: 'one' }),
    entry({ name: 'two', pax: { uid: '7' } }),
    metaEntry('g', paxRecords({ uid: '' })),
    entry({ name: 'three', uid: 5 }),
    END,
  ]);
  const { headers } = parse(bytes);
  assert.deepEqual(
    headers.map((h) => [h.name, h.uid, h.gid]),
    [['before', 0, 0], ['one', 0, 0], ['two', 7, 0], ['three', 5, 0]],
  );
});

test('base-256 numbers are read; negative base-256 is rejected', () => {
  const big = 8 * 1024 ** 3 + 5; // beyond the 11-digit octal limit
  const h = header({ name: 'huge', typeflag: '0', size: big, uid: 2 ** 31, base256: true });
  const p = new TarParser({ onEntry: () => false });
  let seen: TarHeader | undefined;
  const p2 = new TarParser({ onEntry: (x) => void (seen = x) });
  p2.write(h);
  assert.equal(seen!.size, big);
  assert.equal(seen!.uid, 2 ** 31);
  void p;
  const neg = header({ name: 'neg', typeflag: '0', size: 0 });
  neg.fill(0xff, 124, 136);
  fixChecksum(neg);
  rejects(Buffer.concat([neg, END]), 'INVALID_TAR', /invalid size/);
});

function fixChecksum(b: Buffer): void {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b.subarray(0, 512)) sum += c;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
}

test('header checksum is validated', () => {
  rejects(tar([{ name: 'a', checksum: 1 }]), 'INVALID_TAR', /checksum/);
  const garbage = Buffer.alloc(1536, 0x41);
  rejects(garbage, 'INVALID_TAR', /checksum/);
  // Signed-sum checksums (old Sun tar) are accepted.
  const h = header({ name: '\u00e9', typeflag: '0', size: 0 });
  let signed = 0;
  h.fill(0x20, 148, 156);
  for (const c of h) signed += c > 127 ? c - 256 : c;
  h.write(signed.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  assert.equal(parse(Buffer.concat([h, END])).headers[0]!.name, '\u00e9');
});

test('invalid octal digits are rejected', () => {
  const h = header({ name: 'x', typeflag: '0', size: 0 });
  h.write('00000009999\0', 124, 12, 'latin1');
  fixChecksum(h);
  rejects(Buffer.concat([h, END]), 'INVALID_TAR', /size/);
});

test('end of archive: two zero blocks, one, none; trailing bytes after the marker are ignored', () => {
  assert.equal(parse(tar([{ name: 'a' }], 'marker')).parser.endedWith, 'marker');
  assert.equal(parse(tar([{ name: 'a' }], 'single')).parser.endedWith, 'single-zero-block');
  assert.equal(parse(tar([{ name: 'a' }], 'none')).parser.endedWith, 'missing');
  assert.equal(parse(Buffer.alloc(0)).parser.endedWith, 'missing');
  const padded = Buffer.concat([tar([{ name: 'a' }]), Buffer.alloc(10240), Buffer.from('junk after the end')]);
  const r = parse(padded);
  assert.equal(r.headers.length, 1);
  assert.equal(r.parser.position, padded.length);
});

test('a single zero block followed by a header is rejected', () => {
  rejects(Buffer.concat([entry({ name: 'a' }), Buffer.alloc(512), entry({ name: 'b' }), END]), 'INVALID_TAR', /single zero block/);
});

test('truncated streams: inside data, inside a header, inside padding, after an extended header', () => {
  const full = tar([{ name: 'file', data: 'x'.repeat(700) }], 'none');
  rejects(full.subarray(0, 600), 'INVALID_TAR', /entry "file".*truncated.*declares 700 bytes/);
  rejects(full.subarray(0, 300), 'INVALID_TAR', /truncated.*inside a header/);
  rejects(full.subarray(0, 512 + 700 + 10), 'INVALID_TAR', /truncated/);
  rejects(metaEntry('x', paxRecords({ path: 'lost' })), 'INVALID_TAR', /extended header.*no entry/);
  rejects(Buffer.concat([metaEntry('L', Buffer.from('lost\0')), END]), 'INVALID_TAR', /zero block after an extended header/);
});

test('a huge declared size beyond the stream is a truncation, found without allocating it', () => {
  const bytes = tar([{ name: 'liar', data: 'tiny', size: 2 ** 40, base256: true }]);
  rejects(bytes, 'INVALID_TAR', /"liar".*declares 1099511627776 bytes/);
  // Asked to collect it: refused by the content bound before any allocation.
  rejects(bytes, 'LIMIT_EXCEEDED', /"liar".*exceeds the collection limit/, { want: () => true });
});

test('PAX bounds: header size, record length, malformed records, bad numbers', () => {
  rejects(Buffer.concat([header({ name: 'pax', typeflag: 'x', size: 2 << 20 }), END]), 'LIMIT_EXCEEDED', /PAX header of 2097152 bytes/);
  rejects(tar([metaEntry('x', Buffer.from('99999999 path=a\n')), { name: 'a' }]), 'INVALID_TAR', /record length out of bounds/);
  rejects(tar([metaEntry('x', Buffer.from('999999999999 path=a\n')), { name: 'a' }]), 'INVALID_TAR', /malformed record length/);
  rejects(tar([metaEntry('x', Buffer.from('3 x\n')), { name: 'a' }]), 'INVALID_TAR', /record length/);
  rejects(tar([metaEntry('x', Buffer.from('12 path=abc!')), { name: 'a' }]), 'INVALID_TAR', /newline/);
  rejects(tar([metaEntry('x', Buffer.from('11 noequal\n')), { name: 'a' }]), 'INVALID_TAR', /key=value/);
  rejects(tar([{ name: 'a', pax: { size: '-5' } }]), 'INVALID_TAR', /invalid size/);
  rejects(tar([{ name: 'a', pax: { uid: '99999999999999999999' } }]), 'INVALID_TAR', /invalid uid/);
  rejects(tar([{ name: 'a', pax: { mtime: 'yesterday' } }]), 'INVALID_TAR', /invalid mtime/);
  // A smaller configured bound applies too.
  rejects(tar([{ name: 'a', pax: { comment: 'c'.repeat(2000) } }]), 'LIMIT_EXCEEDED', /PAX header/, { maxPaxBytes: 1024 });
  // Negative PAX mtime is a date before 1970, not an error.
  assert.equal(parse(tar([{ name: 'old', pax: { mtime: '-86400' } }])).headers[0]!.mtime, -86400);
});

test('paths longer than the bound are refused, whatever carries them', () => {
  const long = 'a/'.repeat(5000);
  rejects(tar([{ name: long, long: 'gnu' }]), 'LIMIT_EXCEEDED', /GNU long name header/);
  rejects(tar([{ name: long, long: 'pax' }]), 'LIMIT_EXCEEDED', /path longer than 8192/);
  rejects(tar([{ name: 'l', type: 'symlink', linkname: long }]), 'LIMIT_EXCEEDED', /path longer/);
  assert.equal(parse(tar([{ name: 'a'.repeat(200), long: 'pax' }]), { maxPathBytes: 200 }).headers[0]!.name.length, 200);
});

test('skipped data is never copied; collected content is bounded', () => {
  const data = Buffer.alloc(5 << 20, 1);
  const bytes = tar([{ name: 'big', data }, { name: 'small', data: 'ok' }]);
  const r = parse(bytes, { want: (h) => h.name === 'small', chunk: 65536 });
  assert.deepEqual([...r.contents.keys()], ['small']);
  rejects(bytes, 'LIMIT_EXCEEDED', /5242880 bytes exceeds the collection limit of 1048576/, { want: () => true, maxContentBytes: 1 << 20 });
});

test('data of header-only types is not skipped even when a size is declared (as Go reads them)', () => {
  const link = header({ name: 'link', typeflag: '2', size: 512, linkname: 't' });
  const { headers } = parse(Buffer.concat([link, entry({ name: 'next' }), END]));
  assert.deepEqual(headers.map((h) => h.name), ['link', 'next']);
});

test('entries with unknown typeflags are reported and their data skipped', () => {
  // 'V' (a GNU volume label): Go reads it as an entry with data ('S', old GNU sparse, is refused: tar-parity.test.ts).
  const { headers } = parse(tar([{ name: 'label', typeflag: 'V', data: 'abc' }, { name: 'after' }]));
  assert.deepEqual(headers.map((h) => [h.name, h.typeflag]), [['label', 'V'], ['after', '0']]);
});

test('GNU long name with NUL padding and the checksum helper agree', () => {
  const name = 'x'.repeat(300);
  const bytes = Buffer.concat([metaEntry('L', Buffer.concat([Buffer.from(name), Buffer.alloc(20)])), entry({ name: 'short' }), END]);
  assert.equal(parse(bytes).headers[0]!.name, name);
  assert.equal(pad(512).length, 0);
});
