/**
 * Loads every target module under test/fuzz/targets/ (each registers its targets
 * with fuzzTarget), so that a new file there is picked up by `npm run fuzz`
 * without editing a shared list.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { registeredTargets, type AnyTarget } from './harness.js';

const dir = fileURLToPath(new URL('./targets/', import.meta.url));

export async function loadAllTargets(): Promise<AnyTarget[]> {
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  for (const f of files) {
    const before = registeredTargets().length;
    await import(pathToFileURL(join(dir, f)).href);
    for (const t of registeredTargets().slice(before)) targetFiles.set(t.name, f);
  }
  return registeredTargets();
}

/** The module under targets/ that registers each target (set by loadAllTargets). */
const targetFiles = new Map<string, string>();

/** Loads only the module that registers `name` (a fuzz worker needs one target, not all). */
export async function loadTargetModule(file: string): Promise<void> {
  await import(pathToFileURL(join(dir, file)).href);
}

export function targetFile(name: string): string | undefined {
  return targetFiles.get(name);
}
