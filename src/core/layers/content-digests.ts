/**
 * The digest of a layer's uncompressed stream (its diff_id) and the sha256 of
 * every regular file's content, taken off the main thread.
 *
 * The layer walk parses the tar on the main thread while gunzip runs on
 * libuv's pool; hashing every byte twice there (the tar, then each file) made
 * the walk main-thread bound. Here one worker thread per process hashes the
 * stream and the file ranges the tar parser reports, from copies of the
 * uncompressed chunks (pooled buffers, handed back and forth, so nothing is
 * allocated per chunk), and returns the digests as raw 32-byte slots in one
 * Buffer per layer: no per-file hex string unless someone asks for it.
 *
 * Memory is bounded: each layer has at most POOL buffers of BUF_BYTES in
 * flight; the walk waits for the worker when they are all out.
 */
import { Worker } from 'node:worker_threads';
import type { LayerWalk } from './types.js';

/** 32 bytes per regular file of the tar, in tar order (slot k = the k-th file range the parser reported). */
export type DigestSlots = Buffer;

/** What the worker returns for a layer: the file digests and the digest of the whole stream (the diff_id's hex). */
export interface StreamDigests {
  slots: DigestSlots;
  tarHex: string;
}

const BUF_BYTES = 1 << 20;
const POOL = 4;

// Plain JS run with { eval: true }: no path to resolve, the same under tsx, dist/ and a bundle.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const EMPTY = createHash('sha256').digest();
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.t === 'cancel') { jobs.delete(m.job); return; }
  let j = jobs.get(m.job);
  if (!j) { j = { pos: 0, ranges: [], next: 0, h: null, out: Buffer.allocUnsafe(32 * 1024), n: 0, tar: createHash(m.alg) }; jobs.set(m.job, j); }
  if (m.ranges) for (let i = 0; i < m.ranges.length; i++) j.ranges.push(m.ranges[i]);
  if (m.t === 'data') {
    const b = Buffer.from(m.buf, 0, m.len);
    j.tar.update(b);
    feed(j, b);
    parentPort.postMessage({ t: 'ack', job: m.job, buf: m.buf }, [m.buf]);
  } else if (m.t === 'end') {
    feed(j, Buffer.alloc(0));
    jobs.delete(m.job);
    if (j.next !== j.ranges.length || j.h !== null) {
      parentPort.postMessage({ t: 'error', job: m.job, message: 'file data ends after the tar' });
      return;
    }
    const out = j.out.buffer.slice(j.out.byteOffset, j.out.byteOffset + j.n * 32);
    parentPort.postMessage({ t: 'done', job: m.job, digests: out, tar: j.tar.digest('hex') }, [out]);
  }
});
function put(j, d) {
  if ((j.n + 1) * 32 > j.out.length) { const o = Buffer.allocUnsafe(j.out.length * 2); j.out.copy(o, 0, 0, j.n * 32); j.out = o; }
  d.copy(j.out, j.n * 32);
  j.n++;
}
// Ranges are [start, size] pairs of absolute stream offsets, in stream order; b starts at offset j.pos.
function feed(j, b) {
  const base = j.pos, end = base + b.length;
  while (j.next < j.ranges.length) {
    const start = j.ranges[j.next], stop = start + j.ranges[j.next + 1];
    if (j.h === null) {
      if (stop === start) { put(j, EMPTY); j.next += 2; continue; }
      if (start >= end) break;
      if (stop <= end) {
        // The whole file is in this chunk (most files): one update, one digest.
        put(j, createHash('sha256').update(b.subarray(start - base, stop - base)).digest());
        j.next += 2;
        continue;
      }
      j.h = createHash('sha256').update(b.subarray(start - base));
      break;
    }
    // A file begun in an earlier chunk.
    j.h.update(b.subarray(0, Math.min(stop, end) - base));
    if (stop > end) break;
    put(j, j.h.digest());
    j.h = null;
    j.next += 2;
  }
  j.pos = end;
  if (j.next > 8192) { j.ranges = j.ranges.slice(j.next); j.next = 0; }
}
`;

interface Pending {
  resolve: (d: StreamDigests) => void;
  reject: (e: Error) => void;
  /** Buffers handed back by the worker, ready for the next chunks. */
  free: ArrayBuffer[];
  waiting: (() => void) | null;
}

let worker: Worker | null = null;
let nextJob = 1;
const jobs = new Map<number, Pending>();

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, { eval: true });
  w.unref();
  w.on('message', (m: { t: string; job: number; buf?: ArrayBuffer; digests?: ArrayBuffer; tar?: string; message?: string }) => {
    const p = jobs.get(m.job);
    if (!p) return;
    if (m.t === 'ack') {
      p.free.push(m.buf!);
      const go = p.waiting;
      p.waiting = null;
      go?.();
    } else if (m.t === 'done') {
      finish(m.job);
      p.resolve({ slots: Buffer.from(m.digests!), tarHex: m.tar! });
    } else if (m.t === 'error') {
      finish(m.job);
      p.reject(new Error(`content digests: ${m.message ?? 'the worker failed'}`));
    }
  });
  const fail = (e: Error): void => {
    worker = null;
    for (const [id, p] of [...jobs]) {
      finish(id);
      p.reject(new Error(`content digests: the worker stopped: ${e.message}`, { cause: e }));
      p.waiting?.();
    }
  };
  w.on('error', fail);
  w.on('exit', (code) => {
    if (worker === w) fail(new Error(`exit code ${code}`));
  });
  worker = w;
  return w;
}

function finish(job: number): void {
  jobs.delete(job);
  // Keep the process alive only while a layer waits for its digests.
  if (jobs.size === 0) worker?.unref();
}

/**
 * The content digests of one layer: feed it every uncompressed chunk (after the
 * tar parser has seen it, so the file ranges it reported are known), then end().
 */
export class ContentDigester {
  private readonly id = nextJob++;
  private readonly w: Worker;
  private readonly p: Pending;
  private readonly done: Promise<StreamDigests>;
  private readonly alg: string;
  private ranges: number[] = [];
  private cur: ArrayBuffer | null = null;
  private fill = 0;
  private ended = false;

  /** `algorithm` hashes the whole stream (the diff_id's algorithm); file contents are always sha256. */
  constructor(algorithm: string) {
    this.alg = algorithm;
    this.w = getWorker();
    let resolve!: (d: StreamDigests) => void;
    let reject!: (e: Error) => void;
    this.done = new Promise<StreamDigests>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A walk that fails before end() never awaits this: do not let it surface as unhandled.
    this.done.catch(() => {});
    const free: ArrayBuffer[] = [];
    for (let i = 0; i < POOL; i++) free.push(new ArrayBuffer(BUF_BYTES));
    this.p = { resolve, reject, free, waiting: null };
    jobs.set(this.id, this.p);
    this.w.ref();
  }

  /** Regular-file data at stream bytes [start, start + size), in stream order. */
  addRange(start: number, size: number): void {
    this.ranges.push(start, size);
  }

  /** Copies the chunk for the worker. Returns a promise when every buffer is in flight (wait before the next chunk). */
  write(chunk: Buffer): Promise<void> | undefined {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.cur === null) {
        const b = this.p.free.pop();
        if (b === undefined) return this.waitThen(chunk.subarray(pos));
        this.cur = b;
        this.fill = 0;
      }
      const n = Math.min(BUF_BYTES - this.fill, chunk.length - pos);
      chunk.copy(new Uint8Array(this.cur, this.fill, n), 0, pos, pos + n);
      this.fill += n;
      pos += n;
      if (this.fill === BUF_BYTES) this.flush();
    }
    return undefined;
  }

  private async waitThen(rest: Buffer): Promise<void> {
    await new Promise<void>((res) => {
      this.p.waiting = res;
    });
    // Woken without a buffer: the worker failed, and done carries its error.
    if (!jobs.has(this.id)) await this.done;
    const again = this.write(rest);
    if (again) await again;
  }

  private flush(): void {
    const buf = this.cur!;
    const ranges = this.ranges.length > 0 ? this.ranges : undefined;
    this.ranges = [];
    this.cur = null;
    this.w.postMessage({ t: 'data', job: this.id, alg: this.alg, buf, len: this.fill, ranges }, [buf]);
  }

  /** After the last chunk: the stream's digest and one 32-byte slot per reported range. */
  end(): Promise<StreamDigests> {
    if (!this.ended) {
      this.ended = true;
      if (this.cur !== null && this.fill > 0) this.flush();
      this.w.postMessage({ t: 'end', job: this.id, alg: this.alg, ranges: this.ranges.length > 0 ? this.ranges : undefined });
      this.ranges = [];
    }
    return this.done;
  }

  /** The walk failed or was aborted: forget the job. */
  cancel(): void {
    if (!jobs.has(this.id)) return;
    finish(this.id);
    this.w.postMessage({ t: 'cancel', job: this.id });
  }
}

/** The hex digest in a slot. */
export function slotHex(slots: DigestSlots, slot: number): string {
  return slots.toString('hex', slot * 32, slot * 32 + 32);
}

/** Sets `sha256` (hex) on the entries of a walk made with `lazyDigests`; a no-op on any other walk. */
export function materializeDigests<W extends Pick<LayerWalk, 'contentDigests'>>(w: W): W {
  const d = w.contentDigests;
  if (!d) return w;
  for (let k = 0; k < d.entries.length; k++) {
    const e = d.entries[k];
    if (e) e.sha256 = slotHex(d.slots, k);
  }
  delete w.contentDigests;
  return w;
}
