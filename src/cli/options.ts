import { VouchError } from '../core/errors.js';
import type { Platform } from '../core/oci/types.js';

/** `os/arch[/variant]` as docker's --platform spells it. */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/i.test(p))) {
    throw new VouchError('USAGE', `--platform ${JSON.stringify(s)}: expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`);
  }
  const p: Platform = { os: parts[0]!.toLowerCase(), architecture: parts[1]!.toLowerCase() };
  if (parts[2]) p.variant = parts[2].toLowerCase();
  return p;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
