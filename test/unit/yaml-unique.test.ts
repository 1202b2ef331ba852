/** parseYamlUnique: duplicate keys refused; warnings never reach the terminal with the source's raw bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYamlUnique } from '../../src/core/util/yaml.js';

test('a YAML warning (unknown tag) carrying escape sequences is not emitted as a process warning', () => {
  const seen: string[] = [];
  const onWarning = (w: Error): void => void seen.push(w.message);
  process.on('warning', onWarning);
  const v = parseYamlUnique('%YAML 9.9\n---\nimage: !evil "app:1\x1b]52;c;AAAA\x07"\n');
  assert.deepEqual(v, { image: 'app:1\x1b]52;c;AAAA\x07' });
  // Warnings are emitted on a later tick: look after it.
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      process.off('warning', onWarning);
      assert.deepEqual(seen, []);
      resolve();
    }),
  );
});

test('duplicate keys are refused with the line', () => {
  assert.throws(() => parseYamlUnique('a: 1\nb: 2\na: 3\n'), /a/);
});
