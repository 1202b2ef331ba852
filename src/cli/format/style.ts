/**
 * Terminal styling for human output: only when writing to a terminal, and
 * never when NO_COLOR is set (https://no-color.org). Styles wrap text that has
 * already been sanitised.
 */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  warn(s: string): string;
  bad(s: string): string;
  good(s: string): string;
  /** A severity in trivy's colours: critical red, high bright red, medium yellow, low blue, info/unknown cyan. */
  severity(sev: string, s?: string): string;
}

const plain: Style = { bold: (s) => s, dim: (s) => s, warn: (s) => s, bad: (s) => s, good: (s) => s, severity: (sev, s = sev) => s };

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const SEVERITY_SGR: Record<string, number> = { critical: 31, high: 91, medium: 33, low: 34, info: 36, unknown: 36 };
const ansi: Style = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  warn: sgr(33, 39),
  bad: sgr(31, 39),
  good: sgr(32, 39),
  severity: (sev, s = sev) => sgr(SEVERITY_SGR[sev.trim().toLowerCase()] ?? 39, 39)(s),
};

/** FORCE_COLOR's "off" spellings (as supports-color reads them). */
const FORCE_OFF = new Set(['0', 'false']);

export function styleFor(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): Style {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return plain;
  if (env.FORCE_COLOR !== undefined && FORCE_OFF.has(env.FORCE_COLOR.trim().toLowerCase())) return plain;
  if (env.FORCE_COLOR) return ansi;
  return stream.isTTY ? ansi : plain;
}

export const noStyle = plain;
