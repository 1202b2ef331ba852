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
}

const plain: Style = { bold: (s) => s, dim: (s) => s, warn: (s) => s, bad: (s) => s, good: (s) => s };

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const ansi: Style = { bold: sgr(1, 22), dim: sgr(2, 22), warn: sgr(33, 39), bad: sgr(31, 39), good: sgr(32, 39) };

export function styleFor(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): Style {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return plain;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return ansi;
  return stream.isTTY ? ansi : plain;
}

export const noStyle = plain;
