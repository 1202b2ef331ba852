/**
 * Inputs `npm run fuzz` / test/fuzz found, minimised by fast-check, kept as
 * plain regression tests (each names the target that found it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { VouchError } from '../../src/core/errors.js';
import { parseConfig, parseManifest } from '../../src/core/oci/manifest.js';
import { walkLayer } from '../../src/core/layers/walk.js';
import { memoryLayer } from '../helpers/tar-writer.js';

function typedOneLine(f: () => unknown, code: string): VouchError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof VouchError, `not a VouchError: ${String(e)}`);
    assert.equal(e.code, code);
    assert.doesNotMatch(e.message, /[\u0000-\u001f\u007f-\u009f]/, 'one line, no control characters');
    return e;
  }
  assert.fail('expected an error');
}

test('manifest/config (fuzz): JSON.parse quotes the bad input; a CR or C1 character in it no longer breaks the one-line message', () => {
  const m = typedOneLine(() => parseManifest(Buffer.from('000d', 'hex'), 'manifest m'), 'INVALID_MANIFEST');
  assert.match(m.message, /^manifest m: not valid JSON: .*\\x0d/);
  typedOneLine(() => parseConfig(Buffer.from('0dc280', 'hex'), 'config c'), 'INVALID_CONFIG');
});

test('layer-walk (fuzz): a 30-byte zstd layer whose frame asks for a 1 GiB window is refused before the window is allocated', async () => {
  // Magic, frame header without content size, window descriptor 0xa0 (2^30 bytes), one raw block "hi" (last).
  const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa0]), Buffer.from([(2 << 3) | 1, 0, 0]), Buffer.from('hi')]);
  const rssBefore = process.memoryUsage.rss();
  await assert.rejects(walkLayer(memoryLayer(frame, { tarBytes: Buffer.from('hi'), compression: 'zstd' })), (e: unknown) => {
    assert.ok(e instanceof VouchError, String(e));
    // Node 20 decodes with fzstd behind our frame guard; newer Nodes' native decoder has the same 128 MiB limit.
    if (typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress !== 'function') assert.match(e.message, /too much memory/);
    return true;
  });
  assert.ok(process.memoryUsage.rss() - rssBefore < 256 << 20, 'no window-sized allocation');
  // A frame with a window the zstd CLI writes by default (8 MiB at level 19) still decodes.
  const ok = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]), Buffer.from([((1024 << 3) | 1) & 0xff, ((1024 << 3) | 1) >> 8, 0]), Buffer.alloc(1024)]);
  const w = await walkLayer(memoryLayer(ok, { tarBytes: Buffer.alloc(1024), compression: 'zstd' }));
  assert.equal(w.entries.length, 0);
});
