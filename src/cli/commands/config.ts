import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { VouchError } from '../../core/errors.js';
import { sanitizeLine, terminalSafeJson } from '../../core/util/sanitize.js';
import { checkPreference, isKnownPreference, openPreferences, PREFERENCE_KEYS, storedKeyOverrides, type Preferences } from '../../tui/preferences.js';
import type { CliIo } from '../io.js';
import { REBINDABLE } from '../../tui/keys.js';

const unknownKey = (key: string): VouchError => new VouchError('USAGE', `config: unknown key ${JSON.stringify(key)} (known: ${PREFERENCE_KEYS.join(', ')}, keys.<action>)`);

/**
 * The signing key as stored: an absolute path (the workbench may start in another folder), to a file
 * that exists, unless --force (then a warning).
 */
function signingKeyPath(value: string, force: boolean, io: CliIo): string {
  const path = resolve(value);
  let problem: string | null = null;
  try {
    if (!statSync(path).isFile()) problem = 'not a regular file';
  } catch (e) {
    problem = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  if (problem && !force) throw new VouchError('USAGE', `config: signing.key: ${path}: ${problem}; make one with vouch key generate, or pass --force to store it anyway`);
  if (problem) io.err(`vouch: warning: signing.key: ${sanitizeLine(path)}: ${problem}; stored anyway (--force): the workbench's Approve will refuse until it exists\n`);
  return path;
}

/** `vouch config get|set|unset|list`: the reviewer's preferences (conf store, mode 0600). */
export function registerConfig(program: Command, io: CliIo): void {
  const config = program.command('config').description('reviewer preferences: reviewer.name, reviewer.email, signing.key, theme, keys.<action> (key overrides)');
  const get = (key: string): string | undefined => openPreferences().get(key as keyof Preferences) as unknown as string | undefined;
  config
    .command('get')
    .argument('<key>', `${PREFERENCE_KEYS.join(' | ')} | keys.<action>`)
    .option('--json', 'print JSON')
    .action((key: string, flags: { json?: boolean }) => {
      if (!isKnownPreference(key)) throw unknownKey(key);
      const v = get(key);
      if (flags.json) io.out(`${terminalSafeJson(v ?? null)}\n`);
      else if (v === undefined) io.setExitCode(1);
      else io.out(`${sanitizeLine(v)}\n`);
    });
  config
    .command('set')
    .argument('<key>', `${PREFERENCE_KEYS.join(' | ')} | keys.<action> (e.g. keys.down "Down n")`)
    .argument('<value>')
    .option('--force', 'signing.key: store a key file that does not exist (yet)')
    .action((key: string, value: string, flags: { force?: boolean }) => {
      const p = openPreferences();
      checkPreference(key, value, storedKeyOverrides(p));
      if (key === 'signing.key') value = signingKeyPath(value, flags.force === true, io);
      p.set(key as keyof Preferences, value as never);
    });
  config
    .command('unset')
    .argument('<key>', `${PREFERENCE_KEYS.join(' | ')} | keys.<action>`)
    .action((key: string) => {
      if (!isKnownPreference(key)) throw unknownKey(key);
      openPreferences().delete(key as keyof Preferences);
    });
  config
    .command('list')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      const p = openPreferences();
      const all: Record<string, string | null> = Object.fromEntries(PREFERENCE_KEYS.map((k) => [k, (p.get(k as keyof Preferences) as unknown as string | undefined) ?? null]));
      for (const [action, v] of Object.entries(storedKeyOverrides(p))) all[`keys.${action}`] = String(v);
      if (flags.json) io.out(`${terminalSafeJson({ path: p.path, ...all }, 2)}\n`);
      else io.out(`${Object.keys(all).map((k) => `${k.padEnd(15)} ${all[k] === null ? '(unset)' : sanitizeLine(all[k]!)}`).join('\n')}\n# keys.<action> rebinds one of: ${REBINDABLE.join(' ')}\n# ${p.path}\n`);
    });
}
