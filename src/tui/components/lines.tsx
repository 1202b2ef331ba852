/**
 * A scrollable list of lines with a cursor (Overview, Diff, Chain): only the
 * visible window is rendered. A line may carry what `a` annotates and what
 * Enter opens.
 */
import { Box } from 'ink';
import { useScreen, type ScreenHandler } from '../context.js';
import type { AnnotationSubject } from '../session-port.js';
import { follow, moveCursor, useScreenState, type Cursor } from '../state.js';
import { fit, S, type Tone } from './text.js';

export interface Line {
  text: string;
  tone?: Tone | undefined;
  bold?: boolean;
  subject?: { subject: AnnotationSubject; label: string };
  open?: () => void;
}

export function LinesView({ id, lines, extra }: { id: string; lines: Line[]; extra?: Partial<ScreenHandler> }): React.JSX.Element {
  const ctx = useScreen();
  const height = ctx.height;
  const [c, setC] = useScreenState<Cursor>(`${id}:${ctx.imageIndex}:cursor`, () => ({ cursor: 0, offset: 0 }));
  const cur = follow(c, lines.length, height);
  ctx.handle({
    onAction(a, input) {
      if (extra?.onAction?.(a, input)) return true;
      const next = moveCursor(cur, a, lines.length, height);
      if (next) {
        setC(next);
        return true;
      }
      if (a === 'open') {
        const l = lines[cur.cursor];
        if (l?.open) {
          l.open();
          return true;
        }
      }
      return false;
    },
    subject: () => lines[cur.cursor]?.subject ?? null,
  });
  const shown = lines.slice(cur.offset, cur.offset + height);
  return (
    <Box flexDirection="column" height={height}>
      {shown.map((l, i) => {
        const selected = cur.offset + i === cur.cursor;
        return (
          <S key={cur.offset + i} tone={selected ? undefined : l.tone} bold={l.bold || selected} inverse={selected}>
            {selected ? fit(`›${l.text}`, ctx.width) : fit(` ${l.text}`, ctx.width).trimEnd()}
          </S>
        );
      })}
    </Box>
  );
}
