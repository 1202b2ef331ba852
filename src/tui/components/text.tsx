/**
 * The only way screens put strings on the terminal: `S` strips control and
 * escape sequences (sanitizeLine) from whatever it is given, and colours come
 * from the theme, which is empty under NO_COLOR.
 */
import { createContext, useContext } from 'react';
import { Text } from 'ink';
import { defaultTheme, type Theme as UiTheme } from '@inkjs/ui';
import { sanitizeLine } from '../../core/util/sanitize.js';
import { clipToWidth, displayWidth } from '../../core/util/column-fit.js';

export type Tone = 'added' | 'modified' | 'removed' | 'ok' | 'bad' | 'warn' | 'dim' | 'accent' | 'selected' | 'header';

export interface Theme {
  noColor: boolean;
  color(t: Tone): string | undefined;
}

/**
 * Two palettes from the 8 basic colours (the terminal's own theme decides the
 * shades), never white or black text. Yellow and cyan wash out on a light
 * background, so the light palette uses magenta and blue instead.
 */
export const PALETTES: Record<'dark' | 'light', Record<Tone, string>> = {
  dark: { added: 'green', modified: 'yellow', removed: 'red', ok: 'green', bad: 'red', warn: 'yellow', dim: 'gray', accent: 'cyan', selected: 'blue', header: 'magenta' },
  light: { added: 'green', modified: 'magenta', removed: 'red', ok: 'green', bad: 'red', warn: 'magenta', dim: 'gray', accent: 'blue', selected: 'blue', header: 'blue' },
};

export type ThemeChoice = 'auto' | 'dark' | 'light' | 'no-color';

/**
 * The theme: `choice` from the preferences (or $VOUCH_THEME); `auto` reads the
 * background from $COLORFGBG ("fg;bg", set by rxvt, Konsole and others; bg 7
 * or 15 is light) and otherwise assumes dark. NO_COLOR wins over everything.
 */
export function makeTheme(env: NodeJS.ProcessEnv = process.env, choice: ThemeChoice = 'auto'): Theme {
  // https://no-color.org: present and not empty disables colour.
  const noColor = (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || choice === 'no-color' || env.VOUCH_THEME === 'no-color';
  const picked = choice !== 'auto' ? choice : env.VOUCH_THEME === 'light' || env.VOUCH_THEME === 'dark' ? env.VOUCH_THEME : /(^|;)(7|15)$/.test(env.COLORFGBG ?? '') ? 'light' : 'dark';
  const tones = PALETTES[picked === 'light' ? 'light' : 'dark'];
  return { noColor, color: (t) => (noColor ? undefined : tones[t]) };
}

export const ThemeContext = createContext<Theme>(makeTheme({}));
export const useTheme = (): Theme => useContext(ThemeContext);

export interface SProps {
  children: string | number | null | undefined | Array<string | number | null | undefined>;
  tone?: Tone | undefined;
  bold?: boolean;
  inverse?: boolean;
  wrap?: 'truncate-end' | 'wrap';
}

export function S({ children, tone, bold, inverse, wrap = 'truncate-end' }: SProps): React.JSX.Element {
  const theme = useTheme();
  const parts = Array.isArray(children) ? children : [children];
  const text = sanitizeLine(parts.map((p) => (p === null || p === undefined ? '' : String(p))).join(''));
  const color = tone ? theme.color(tone) : undefined;
  // Without colour the selection still shows: inverse needs no colour.
  return (
    <Text wrap={wrap} {...(color ? { color } : {})} {...(bold ? { bold } : {})} {...(inverse ? { inverse } : {})} {...(tone === 'dim' && !color ? { dimColor: true } : {})}>
      {text}
    </Text>
  );
}

/**
 * Sanitise, then clip or pad to exactly `w` terminal columns (wide CJK
 * characters count two, combining marks none). Sanitising first: an escape
 * (`\x1b`) is four columns on screen, so padding the raw text would shift
 * every column after it. Sanitising again in `S` changes nothing.
 */
export function fit(s: string, w: number, align: 'left' | 'right' = 'left'): string {
  if (w <= 0) return '';
  const clipped = clipToWidth(sanitizeLine(s), w);
  const pad = ' '.repeat(Math.max(0, w - displayWidth(clipped)));
  return align === 'left' ? clipped + pad : pad + clipped;
}

/** Words of `s` in lines of at most `w` characters (a word longer than a line is cut across lines). */
export function wrapWords(s: string, w: number): string[] {
  const width = Math.max(10, w);
  const out: string[] = [];
  let line = '';
  for (const word of s.split(/\s+/).filter(Boolean)) {
    let rest = [...word];
    while (rest.length) {
      const room = line ? width - [...line].length - 1 : width;
      if (rest.length <= room) {
        line = line ? `${line} ${rest.join('')}` : rest.join('');
        rest = [];
      } else if (line) {
        out.push(line);
        line = '';
      } else {
        out.push(rest.slice(0, width).join(''));
        rest = rest.slice(width);
      }
    }
  }
  if (line) out.push(line);
  return out;
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export const shortDigest = (d: string): string => (d.startsWith('sha256:') ? d.slice(0, 19) : d.slice(0, 12));

/**
 * @inkjs/ui's inputs (Select, TextInput, Spinner…) colour themselves: under
 * NO_COLOR the App gives them this copy of their theme with every colour
 * property removed (the focus indicator and inverse still show the selection).
 */
export const COLOURLESS_UI: UiTheme = {
  components: Object.fromEntries(
    Object.entries(defaultTheme.components).map(([name, c]) => [
      name,
      {
        ...c,
        ...(c.styles
          ? {
              styles: Object.fromEntries(
                Object.entries(c.styles).map(([part, style]) => [
                  part,
                  (props?: unknown) => {
                    const { color: _c, backgroundColor: _b, borderColor: _d, ...rest } = style(props) as Record<string, unknown>;
                    return rest;
                  },
                ]),
              ),
            }
          : {}),
      },
    ]),
  ),
};
