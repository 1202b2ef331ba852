/**
 * Writes docs/checks.md from the check registry.
 *
 *   npx tsx scripts/gen-checks-doc.ts          write it
 *   npx tsx scripts/gen-checks-doc.ts --check  exit 1 when the committed file is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checksDoc } from '../src/core/checks/doc.js';
import { defaultRegistry } from '../src/core/checks/registry.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'checks.md');
const text = checksDoc(defaultRegistry());
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    /* missing counts as stale */
  }
  if (current !== text) {
    console.error(`${target} is stale: run npx tsx scripts/gen-checks-doc.ts`);
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
