/**
 * Starts the analysis process (analysis-worker.ts) and turns what it sends
 * into the ReviewModel. Kept out of the UI bundle and free of Ink, so the
 * command can start the analysis before it loads the UI: both start-ups overlap.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { VouchError } from '../core/errors.js';
import type { WorkerMessage, WorkerRequest } from './analysis-worker.js';
import { modelFromParts } from './build.js';
import type { ReviewModel } from './model.js';

type Progress = Extract<WorkerMessage, { type: 'progress' }>;

export interface WorkerLoad {
  result: Promise<ReviewModel>;
  /** Progress callback (the latest one wins; earlier progress is replayed once). */
  onProgress(f: (p: Progress) => void): void;
  cancel(): void;
}

function workerEntry(): { path: string; execArgv: string[] } {
  const here = import.meta.url;
  // From source (tests, tsx) the worker is TypeScript too: load it through tsx like the parent.
  if (/\.tsx?$/.test(here)) return { path: fileURLToPath(new URL('./analysis-worker.ts', here)), execArgv: ['--import', 'tsx'] };
  return { path: fileURLToPath(new URL('./analysis-worker.js', here)), execArgv: [] };
}

/** Why the analysis process ended without a result, in one line. */
export function stoppedLine(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const how = signal
    ? `was killed (${signal}${signal === 'SIGKILL' ? ', perhaps out of memory' : ''})`
    : code === 0
      ? 'ended (exit 0)'
      : `failed (exit ${code})`;
  const last = stderr.trim().split('\n').pop();
  return `the analysis process ${how} before it sent the review to the workbench${last ? `: ${last}` : ''}`;
}

/** Load the review in the analysis process; progress goes to `onProgress`. */
export function loadInWorker(req: WorkerRequest): WorkerLoad {
  let last: Progress | null = null;
  let listener: ((p: Progress) => void) | null = null;
  const onProgress = (p: Progress): void => {
    last = p;
    listener?.(p);
  };
  const w = workerEntry();
  const child = fork(w.path, [], { execArgv: w.execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const result = new Promise<ReviewModel>((resolve, reject) => {
    let settled = false;
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress(m);
      else if (m.type === 'done') {
        settled = true;
        resolve(modelFromParts(m.parts));
      } else {
        settled = true;
        reject(new VouchError('USAGE', m.message, { exitCode: m.exitCode }));
      }
    });
    child.on('exit', (code, signal) => {
      if (!settled) reject(new VouchError('USAGE', stoppedLine(code, signal, stderr)));
    });
  });
  child.send(req);
  // The UI may look for the result late: do not let an early failure count as unhandled.
  result.catch(() => {});
  return {
    result,
    onProgress(f) {
      listener = f;
      if (last) f(last);
    },
    cancel: () => child.kill(),
  };
}

