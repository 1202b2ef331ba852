/**
 * `npm run bench -- --only SECTION[,SECTION]`: apart from bench/run.ts so that it is
 * tested without running a bench. A misspelt section must not pass as an empty run.
 */
export const SECTIONS = ['inspect', 'packages', 'trust', 'checks', 'approval', 'tui', 'scaling'] as const;

export class BenchUsageError extends Error {}

/** The sections --only names (null without --only); throws BenchUsageError for an unknown or missing name. */
export function onlySections(argv: readonly string[]): Set<string> | null {
  const i = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (i < 0) return null;
  const raw = argv[i]!.startsWith('--only=') ? argv[i]!.slice(7) : argv[i + 1];
  const names = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0 || raw!.startsWith('--')) throw new BenchUsageError(`--only needs one or more sections, comma-separated (${SECTIONS.join(', ')})`);
  const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (unknown.length) throw new BenchUsageError(`unknown section${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (${SECTIONS.join(', ')})`);
  return new Set(names);
}
