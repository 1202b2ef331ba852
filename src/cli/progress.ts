/** A one-line progress meter on stderr, only when stderr is a terminal. */
import type { Progress } from '../core/layers/image-analysis.js';
import { sanitizeLine } from '../core/util/sanitize.js';
import { humanBytes } from './format/text.js';

export interface ProgressReporter {
  /** `input` names the image when several are analysed (check, diff); each keeps its own figures on the line. */
  update: (p: Progress, input?: string) => void;
  done: () => void;
}

export function progressReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (!stream.isTTY) return { update: () => {}, done: () => {} };
  let last = 0;
  let shown = false;
  const byInput = new Map<string, Progress>();
  const figures = (p: Progress): string => `layers ${p.layersDone}/${p.layersTotal} · ${humanBytes(p.bytesDone)} / ${humanBytes(p.bytesTotal)}`;
  return {
    update(p: Progress, input = '') {
      byInput.set(input, { ...p });
      const now = Date.now();
      if (now - last < 100 && p.layersDone < p.layersTotal) return;
      last = now;
      shown = true;
      const parts = [...byInput].map(([k, v]) => (k ? `${sanitizeLine(k)}: ${figures(v)}` : figures(v)));
      // One line, never wrapped (a wrapped line is not cleared by \r): cut to the terminal's width.
      const line = `analysing ${parts.join('; ')}`;
      const width = Math.max(20, (stream.columns || 80) - 1);
      stream.write(`\r\x1b[2K${[...line].length > width ? `${[...line].slice(0, width - 1).join('')}…` : line}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
    },
  };
}
