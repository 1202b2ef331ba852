/**
 * Whatever bytes arrive, parsing ends in a result or a VouchError: never a
 * TypeError, RangeError or stack overflow from inside the validator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VouchError } from '../../src/core/errors.js';
import { parseConfig, parseManifest, parseOciLayoutFile } from '../../src/core/oci/manifest.js';

function resultOrVouchError(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof VouchError)) throw e;
    assert.ok(!e.message.includes('\n'), 'error messages are one line');
  }
}

const everyParser = (bytes: Uint8Array, hint: string | undefined) => {
  resultOrVouchError(() => parseManifest(bytes, 'm', hint));
  resultOrVouchError(() => parseConfig(bytes, 'c'));
  resultOrVouchError(() => parseOciLayoutFile(bytes, 'l'));
};

// Any bytes, any JSON value, valid documents mutated and near-miss documents → a result or a VouchError:
// the fuzz targets `manifest`, `config` and `oci-layout-file` (test/fuzz/targets/oci.ts).

test('deeply nested JSON does not overflow the stack', () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  everyParser(Buffer.from(deep), undefined);
  const deepAnn = `{"schemaVersion":2,"config":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)},"layers":[]}`;
  everyParser(Buffer.from(deepAnn), undefined);
});
