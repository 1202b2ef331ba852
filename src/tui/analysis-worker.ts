/**
 * The analysis process of the workbench: loads the review (analysis, checks,
 * chain, catalogue, diff) off the render thread and reports progress (layers,
 * bytes) over IPC, so the UI stays responsive while an uncached image is read.
 * Messages: in {refs, opts}; out {type: 'progress' | 'done' | 'error'}.
 */
import { errorLine, isVouchError } from '../core/errors.js';
import { loadReviewParts, type LoadOptions } from './loader.js';

export interface WorkerRequest {
  refs: string[];
  opts: Omit<LoadOptions, 'onProgress' | 'cache'>;
}

export type WorkerMessage =
  | { type: 'progress'; what: string; layersDone?: number; layersTotal?: number; bytesDone?: number; bytesTotal?: number }
  | { type: 'done'; parts: Awaited<ReturnType<typeof loadReviewParts>> }
  | { type: 'error'; message: string; exitCode: number };

const send = (m: WorkerMessage): void => void process.send?.(m);

/**
 * The last message, then leave: a large result (a 'done' of 200k files is tens
 * of MB) is still being written when process.send returns, so the channel is
 * closed only once the message has been handed to the pipe (the send callback).
 * A write that fails leaves with exit 3 (the UI names it).
 */
const sendLast = (m: WorkerMessage): void => {
  if (!process.send) return;
  process.send(m, undefined, {}, (err) => {
    if (err) {
      process.stderr.write(`could not send the ${m.type} message to the workbench: ${err.message}\n`);
      process.exitCode = 3;
    }
    process.disconnect?.();
  });
};

process.once('message', (req: WorkerRequest) => {
  let last = 0;
  loadReviewParts(req.refs, {
    ...req.opts,
    onProgress: (what, p) => {
      // At most ~20 updates a second: the UI redraws on each.
      const now = Date.now();
      if (p && now - last < 50 && p.layersDone < p.layersTotal) return;
      last = now;
      send({ type: 'progress', what, ...(p ?? {}) });
    },
  }).then(
    (parts) => {
      sendLast({ type: 'done', parts });
    },
    (e: unknown) => {
      sendLast({ type: 'error', message: errorLine(e), exitCode: isVouchError(e) ? e.exitCode : 2 });
    },
  );
});
