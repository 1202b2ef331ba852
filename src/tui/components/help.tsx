/**
 * The `?` help, rendered from the effective key table itself (overrides
 * included). On a short terminal it scrolls with the list keys, so every key
 * is reachable at 80×24.
 */
import { Box } from 'ink';
import { keyOf, showKeys, type KeyTable } from '../keys.js';
import { fit, S } from './text.js';

/** Rows of keys the help shows at once in `height` rows (a title and a footer line around them). */
export const helpPage = (height: number): number => Math.max(1, height - 2);

export function HelpView({ keys, width, height, offset = 0 }: { keys: KeyTable; width: number; height: number; offset?: number }): React.JSX.Element {
  const page = helpPage(height);
  const from = Math.max(0, Math.min(offset, keys.length - page));
  const rows = keys.slice(from, from + page);
  const kw = 11;
  const ww = 11;
  const below = keys.length - from - rows.length;
  return (
    <Box flexDirection="column">
      <S tone="header" bold>
        {fit(`Keys (${keyOf(keys, 'back')} or ${keyOf(keys, 'help')} closes)`, width)}
      </S>
      {rows.map((b) => (
        <S key={b.action}>{fit(`${fit(showKeys(b), kw)} ${fit(b.where, ww)} ${b.help}`, width)}</S>
      ))}
      {from > 0 || below > 0 ? (
        <S tone="dim">{fit(`${from > 0 ? `${from} above` : ''}${from > 0 && below > 0 ? ' · ' : ''}${below > 0 ? `${below} more below` : ''} (${keyOf(keys, 'down')} ${keyOf(keys, 'pageDown')} ${keyOf(keys, 'up')} ${keyOf(keys, 'pageUp')} scroll)`, width)}</S>
      ) : null}
    </Box>
  );
}
