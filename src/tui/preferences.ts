/**
 * The reviewer's preferences, in a conf store (file mode 0600, under the
 * user's config directory, or $VOUCH_CONFIG_DIR): reviewer name and email,
 * default signing key, theme, key overrides (`keys.<action>`, see keys.ts).
 * `vouch config get|set|list` edits them; the first run of the workbench asks
 * for the reviewer identity once.
 */
import Conf from 'conf';
import { VouchError } from '../core/errors.js';
import { applyKeyOverrides, KEYMAP, KeyOverrideError, REBINDABLE, type KeyTable } from './keys.js';

export const PREFERENCE_KEYS = ['reviewer.name', 'reviewer.email', 'signing.key', 'theme'] as const;
export type PreferenceKey = (typeof PREFERENCE_KEYS)[number];
export const THEMES = ['auto', 'dark', 'light', 'no-color'] as const;

export interface Preferences {
  reviewer?: { name?: string; email?: string };
  signing?: { key?: string };
  theme?: (typeof THEMES)[number];
  /** Action → "key key …" (keys.ts). */
  keys?: Record<string, string>;
}

export function isPreferenceKey(k: string): k is PreferenceKey {
  return (PREFERENCE_KEYS as readonly string[]).includes(k);
}

/** The key-override preferences, `keys.<action>`, one per action that may be rebound. */
export const KEY_PREFERENCES = REBINDABLE.map((a) => `keys.${a}`);
const isKeyPreference = (k: string): boolean => k.startsWith('keys.');

/** Every preference key `config get|set` accepts. */
export function isKnownPreference(k: string): boolean {
  return isPreferenceKey(k) || KEY_PREFERENCES.includes(k);
}

export function storedKeyOverrides(p: Conf<Preferences>): Record<string, string> {
  const k = p.get('keys');
  return k && typeof k === 'object' ? { ...k } : {};
}

/**
 * The workbench's key table: the defaults with the stored overrides. A store
 * edited by hand into a conflict is not fatal: the defaults, and the problem
 * to show.
 */
export function keyTableFrom(p: Conf<Preferences>): { table: KeyTable; problem: string | null } {
  try {
    return { table: applyKeyOverrides(storedKeyOverrides(p)), problem: null };
  } catch (e) {
    if (e instanceof KeyOverrideError) return { table: KEYMAP, problem: `key overrides ignored: ${e.message}` };
    throw e;
  }
}

export function openPreferences(env: NodeJS.ProcessEnv = process.env): Conf<Preferences> {
  return new Conf<Preferences>({
    projectName: 'vouch',
    projectSuffix: '',
    configName: 'preferences',
    configFileMode: 0o600,
    ...(env.VOUCH_CONFIG_DIR ? { cwd: env.VOUCH_CONFIG_DIR } : {}),
  });
}

/** Check a value before it is stored: one clear line naming the key when it is wrong. */
export function checkPreference(key: string, value: string, current: Record<string, string> = {}): void {
  if (isKeyPreference(key)) {
    // The new override together with those already stored: conflicts are refused naming this key.
    const action = key.slice('keys.'.length);
    try {
      applyKeyOverrides({ ...current, [action]: value }, action);
    } catch (e) {
      if (e instanceof KeyOverrideError) throw new VouchError('USAGE', `config: ${e.message}`);
      throw e;
    }
    return;
  }
  if (!isPreferenceKey(key)) throw new VouchError('USAGE', `config: unknown key ${JSON.stringify(key)} (known: ${PREFERENCE_KEYS.join(', ')}, keys.<action>)`);
  if (key === 'reviewer.email' && !/^[^\s@]+@[^\s@]+$/.test(value)) throw new VouchError('USAGE', `config: reviewer.email ${JSON.stringify(value)} is not an email address`);
  if (key === 'theme' && !(THEMES as readonly string[]).includes(value)) throw new VouchError('USAGE', `config: theme must be one of ${THEMES.join(', ')}`);
  if (value.length > 1024 || /[\u0000-\u001f\u007f]/.test(value)) throw new VouchError('USAGE', `config: ${key} must be one line of at most 1024 characters`);
}

/** "Name <email>", or null until the reviewer has said who they are. */
export function reviewerIdentity(p: Conf<Preferences>): string | null {
  const name = p.get('reviewer.name' as keyof Preferences) as unknown as string | undefined;
  const email = p.get('reviewer.email' as keyof Preferences) as unknown as string | undefined;
  if (!name) return null;
  return email ? `${name} <${email}>` : name;
}
