import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInspect } from '../../src/cli/format/inspect.js';
import { styleFor } from '../../src/cli/format/style.js';
import { humanBytes, table } from '../../src/cli/format/text.js';
import { sanitizeLine, sanitizeText } from '../../src/core/util/sanitize.js';
import type { ImageAnalysis } from '../../src/core/layers/image-analysis.js';

const EVIL = 'x\u001b]0;pwned\u0007\u001b[2J\r\u202eevil';

function analysis(): ImageAnalysis {
  const d = `sha256:${'a'.repeat(64)}`;
  return {
    analyzerVersion: 1, reference: 'oci:/x:y', transport: 'oci', name: `name${EVIL}`, digest: d, synthesizedManifest: false,
    mediaType: 'application/vnd.oci.image.manifest.v1+json', index: null, platform: { os: 'linux', architecture: 'amd64', variant: null },
    config: { digest: d, user: `u${EVIL}`, env: [`A=${EVIL}`], entrypoint: [EVIL], cmd: null, workingDir: EVIL, exposedPorts: [EVIL], volumes: [], labels: { [EVIL]: EVIL }, created: EVIL, stopSignal: null, healthcheck: null },
    history: [], layers: [{ index: 0, digest: d, diffId: d, mediaType: 'x', size: 1, uncompressedSize: 1, createdBy: `RUN ${EVIL}`, created: null, entries: 1, added: 1, modified: 0, removed: 0, addedBytes: 1, sizeBytes: 1, warnings: [EVIL] }],
    files: 1, totalBytes: 1, efficiency: 1, sizeBytes: 1, userSizeBytes: 0, wastedBytes: 0, userWastedPercent: 0,
    inefficientFiles: [{ path: `/p${EVIL}`, count: 2, wastedBytes: 2 }],
    source: { repository: EVIL, revision: EVIL },
    traceability: { repository: EVIL, revision: EVIL, created: null, version: null, baseName: EVIL, baseDigest: null, evidence: { k: [{ value: EVIL, from: 'config-label' }, { value: 'y', from: 'manifest-annotation' }] }, conflicts: ['k'] },
    warnings: [EVIL],
  };
}

test('strings from an image never reach the terminal with control characters', () => {
  const out = formatInspect(analysis());
  // Only newlines remain as control characters in the plain rendering.
  assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  // Each control character as its own escape, so two names differing only in one stay apart on screen.
  assert.match(out, /x\\x1b\]0;pwned\\x07\\x1b\[2J\\x0d\\u202eevil/);
});

test('styling is off for pipes and under NO_COLOR, on for terminals', () => {
  assert.equal(styleFor({ isTTY: false }, {}).bold('a'), 'a');
  assert.equal(styleFor({ isTTY: true }, { NO_COLOR: '1' }).bold('a'), 'a');
  assert.equal(styleFor({ isTTY: true }, {}).bold('a'), '\u001b[1ma\u001b[22m');
  const styled = formatInspect(analysis(), undefined, styleFor({ isTTY: true }, {}));
  // Our own SGR sequences only; nothing from the image.
  assert.doesNotMatch(styled.replace(/\u001b\[(1|22|2|31|32|33|39)m/g, ''), /\u001b/);
});

test('sanitizers and table helpers', () => {
  assert.equal(sanitizeLine('a\nb\tc\u001bd'), 'a\\x0ab\\x09c\\x1bd');
  assert.equal(sanitizeText('a\nb\tc\u001bd'), 'a\nb\tc\\x1bd');
  // Injective for distinct control characters (they were all '?'), C1 and bidi overrides included; C1 is not confused with a byte that is not UTF-8.
  assert.notEqual(sanitizeLine('f\u0007'), sanitizeLine('f\u001b'));
  assert.notEqual(sanitizeLine('\u0080'), sanitizeLine('\udc80'));
  assert.equal(sanitizeLine('a\u009b\u2066b\u007f'), 'a\\u009b\\u2066b\\x7f');
  assert.equal(humanBytes(1220598), '1.22 MB');
  assert.equal(humanBytes(999), '999 B');
  assert.equal(table([{ header: 'A' }, { header: 'B', align: 'right' }], [['x', '1'], ['yy', '22']]), 'A    B\nx    1\nyy  22');
});
