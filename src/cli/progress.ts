/** A one-line progress meter on stderr, only when stderr is a terminal. */
import type { Progress } from '../core/layers/image-analysis.js';
import { humanBytes } from './format/text.js';

export function progressReporter(stream: NodeJS.WriteStream = process.stderr): { update: (p: Progress) => void; done: () => void } {
  if (!stream.isTTY) return { update: () => {}, done: () => {} };
  let last = 0;
  let shown = false;
  return {
    update(p: Progress) {
      const now = Date.now();
      if (now - last < 100 && p.layersDone < p.layersTotal) return;
      last = now;
      shown = true;
      stream.write(`\r\x1b[2Kanalysing layers ${p.layersDone}/${p.layersTotal} · ${humanBytes(p.bytesDone)} / ${humanBytes(p.bytesTotal)}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
    },
  };
}
