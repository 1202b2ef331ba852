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
      send({ type: 'done', parts });
      process.disconnect?.();
    },
    (e: unknown) => {
      send({ type: 'error', message: errorLine(e), exitCode: isVouchError(e) ? e.exitCode : 2 });
      process.disconnect?.();
    },
  );
});
