/** `os/arch[/variant]` as docker's --platform spells it (VouchError USAGE, exit code 2, on anything else). */
export { parsePlatform } from '../core/oci/manifest.js';

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
