// Worker entry for scripts/fuzz.ts: a worker thread does not inherit tsx from
// `node --import tsx`, so register it here, then run the TypeScript worker.
import { register } from 'tsx/esm/api';
register();
await import('./fuzz-worker.ts');
