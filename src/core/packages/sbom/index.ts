/**
 * SBOM documents in and out. In: CycloneDX 1.2–1.7 JSON, SPDX 2.2/2.3 JSON,
 * syft JSON (any schema), identified by content, optionally inside an in-toto
 * Statement or DSSE envelope; SPDX 3 JSON-LD and SPDX tag-value are identified
 * and refused with a clear error. Out: CycloneDX 1.6 JSON and SPDX 2.3 JSON.
 *
 * Untrusted input: documents larger than SBOM_MAX_BYTES (128 MiB unless the
 * caller says otherwise) are refused before they are read, so a huge file
 * cannot exhaust memory; malformed or truncated JSON, unknown spec versions
 * and documents with no usable record are SbomErrors (exit code 2) naming the
 * file and record; bad records among good ones, duplicates and cyclic
 * dependency graphs are warnings on the inventory.
 */
import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { PackageInventory } from '../types.js';
import { ReadContext, SbomError } from './common.js';
import { readCycloneDx, type ReaderResult } from './cyclonedx.js';
import { decodeText, detectSbom, type Detection, type SbomFormat } from './detect.js';
import { readSpdx } from './spdx.js';
import { readSyft } from './syft.js';
import { readVouchJson } from './vouch-json.js';

export { SbomError, type SbomErrorKind } from './common.js';
export { detectSbom, identifyJson, type Detection, type SbomFormat, type SbomFormatName } from './detect.js';
import { describedImageDigest } from './described.js';
export { toCycloneDx } from './cyclonedx-writer.js';
export { toSpdx } from './spdx-writer.js';
export type { SbomWriteMeta, ImageSubject } from './writer-common.js';
export { imagePurl } from './writer-common.js';
export { imageSubject } from './image-subject.js';

/** Documents above this size are refused (override with ParseOptions.maxBytes). */
export const SBOM_MAX_BYTES = 128 * 1024 * 1024;

export interface SbomInventory extends PackageInventory {
  format: SbomFormat;
  /** Records in the document (components / packages / artifacts, nested included) before deduplication. */
  records: number;
}

export interface ParseOptions {
  /** Where the inventory came from (default 'file'). */
  source?: PackageInventory['source'];
  /** Size limit in bytes (default SBOM_MAX_BYTES). */
  maxBytes?: number;
}

/** Identify and read an SBOM from its bytes; `what` names it in messages (a path, `image@sha256:… .sbom tag`). */
export function parseSbom(bytes: Uint8Array | string, what: string, opts: ParseOptions = {}): SbomInventory {
  const max = opts.maxBytes ?? SBOM_MAX_BYTES;
  const size = typeof bytes === 'string' ? bytes.length : bytes.byteLength;
  if (size > max) throw tooLarge(what, size, max);
  const text = decodeText(bytes, what);
  const detection = detectSbom(text, what);
  return readDetected(detection, what, opts.source ?? 'file');
}

/** Read an already identified document (the registry side passes parsed attestation predicates here). */
export function readDetected(detection: Detection, what: string, source: PackageInventory['source'] = 'file'): SbomInventory {
  const { format } = detection;
  if (!detection.supported || !detection.doc) {
    throw new SbomError('unsupported', `${what}: ${describe(format)}: ${detection.note ?? 'not supported'}`);
  }
  const ctx = new ReadContext(what);
  if (detection.note) ctx.warn(detection.note);
  let r: ReaderResult;
  switch (format.name) {
    case 'cyclonedx-json':
      r = readCycloneDx(detection.doc, ctx);
      break;
    case 'spdx-json':
      r = readSpdx(detection.doc, ctx);
      break;
    case 'syft-json':
      r = readSyft(detection.doc, ctx);
      break;
    case 'vouch-json':
      r = readVouchJson(detection.doc, ctx);
      break;
    default:
      throw new SbomError('unsupported', `${what}: ${describe(format)} is not supported`);
  }
  const describes = describedImageDigest(format.name, detection.doc);
  return { source, distro: r.distro, packages: r.packages, warnings: ctx.finishWarnings(), format, records: r.records, ...(describes ? { describes } : {}) };
}

/** `CycloneDX 1.6 JSON`, `SPDX 2.3 tag-value`... */
export function describe(f: SbomFormat): string {
  switch (f.name) {
    case 'cyclonedx-json':
      return `CycloneDX ${f.version} JSON`;
    case 'spdx-json':
      return `SPDX ${f.version} JSON`;
    case 'spdx-jsonld':
      return `SPDX ${f.version} JSON-LD`;
    case 'spdx-tag-value':
      return `SPDX ${f.version} tag-value`;
    case 'syft-json':
      return `syft JSON (schema ${f.version})`;
    case 'vouch-json':
      return 'vouch sbom JSON';
  }
}

function tooLarge(what: string, size: number, max: number): SbomError {
  const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return new SbomError('too-large', `${what}: SBOM is ${mib(size)}, above the ${mib(max)} limit (set VOUCH_SBOM_MAX_BYTES to raise it)`);
}

/** Read and identify an SBOM file; refuses non-regular files and files above the size limit before reading them. */
export async function readSbomFile(path: string, opts: ParseOptions = {}): Promise<SbomInventory> {
  const max = opts.maxBytes ?? SBOM_MAX_BYTES;
  let fh;
  try {
    // Non-blocking: opening a FIFO must not wait for a writer (the type is checked on the descriptor below).
    fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SbomError('invalid', `${path}: cannot open SBOM: ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`, { cause: e });
  }
  let bytes: Buffer;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new SbomError('invalid', `${path}: not a regular file`);
    if (st.size > max) throw tooLarge(path, st.size, max);
    // Read at most max+1 bytes, whatever the file does meanwhile.
    const buf = Buffer.allocUnsafe(Math.min(st.size, max) + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > max) throw tooLarge(path, n, max);
    bytes = buf.subarray(0, n);
  } finally {
    await fh.close();
  }
  return parseSbom(bytes, path, { ...opts, maxBytes: max });
}
