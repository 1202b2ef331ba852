/**
 * What a file that is not an image is, in a few words, so that the error
 * points the right way: an empty or truncated archive, an SBOM in a format
 * vouch does not read (CycloneDX XML, UTF-16 JSON), a compressed archive.
 * Reads the first 64 KiB and the tar headers' sizes only.
 */
import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';

const HEAD = 64 * 1024;

/** One phrase describing the text at the start of a file when it is UTF-16 or XML; null otherwise. */
export function describeText(head: Uint8Array): string | null {
  const b = head;
  const utf16 = (b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff) || (b.length >= 4 && ((b[0] !== 0 && b[1] === 0 && b[2] !== 0 && b[3] === 0) || (b[0] === 0 && b[1] !== 0 && b[2] === 0 && b[3] !== 0)));
  if (utf16) return 'UTF-16 text; vouch reads UTF-8 (convert it: iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8.json)';
  const text = Buffer.from(b.subarray(0, 4096)).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('<')) {
    if (/cyclonedx\.org\/schema\/bom/i.test(text)) return 'a CycloneDX XML document; vouch reads CycloneDX JSON (convert it: cyclonedx convert --input-file FILE --output-format json)';
    if (/spdx/i.test(text)) return 'an SPDX RDF/XML document; vouch reads SPDX JSON';
    return 'an XML document, not an image or a JSON SBOM';
  }
  return null;
}

/** Why `path` is not an image archive, as one phrase; null when nothing specific can be said. */
export async function describeNonImageFile(path: string): Promise<string | null> {
  let fh;
  try {
    // Non-blocking: a FIFO must not hang (the type is checked on the descriptor below).
    fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return st.isDirectory() ? null : 'not a regular file (a FIFO, device or socket is never an image or an SBOM)';
    if (st.size === 0) return 'empty file (0 bytes)';
    const head = Buffer.alloc(Math.min(HEAD, st.size));
    await fh.read(head, 0, head.length, 0);
    if (head[0] === 0x1f && head[1] === 0x8b) return 'a gzip-compressed file; vouch reads the uncompressed archive (gunzip it first)';
    if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'a zstd-compressed file; vouch reads the uncompressed archive (unzstd it first)';
    const text = describeText(head);
    if (text) return text;
    if (head.length >= 263 && head.toString('latin1', 257, 262) === 'ustar') {
      // Walk the tar's headers by their sizes: an entry that runs past the end means the file was cut short.
      const hdr = Buffer.alloc(512);
      for (let off = 0; off < st.size; ) {
        if (off + 512 > st.size) return `a truncated tar archive (${st.size} bytes; it ends inside a header at byte ${off})`;
        await fh.read(hdr, 0, 512, off);
        if (hdr.every((x) => x === 0)) return 'a tar archive with neither index.json (OCI) nor manifest.json (docker save)';
        const size = parseInt(hdr.toString('latin1', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
        if (!Number.isFinite(size)) return 'a tar archive with a malformed header';
        const next = off + 512 + Math.ceil(size / 512) * 512;
        if (off + 512 + size > st.size) return `a truncated tar archive (${st.size} bytes; entry ${JSON.stringify(hdr.toString('utf8', 0, 100).replace(/\0.*$/s, ''))} needs ${off + 512 + size})`;
        off = next;
      }
      return 'a tar archive without its end marker, with neither index.json nor manifest.json (truncated?)';
    }
    if (/^\s*[{[]/.test(head.toString('utf8', 0, 64))) return 'a JSON document, not an image (SBOM files are read by vouch sbom, diff and check --sbom)';
    // Named like an SBOM but not JSON at all.
    if (/\.json$/i.test(path)) return 'not valid JSON (an SBOM file is a JSON object), and not an image';
    return null;
  } finally {
    await fh.close();
  }
}
