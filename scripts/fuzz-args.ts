/**
 * Command-line flags of `npm run fuzz` (scripts/fuzz.ts), apart so that their
 * refusals are tested without loading the targets. A refusal is a UsageError:
 * fuzz.ts prints its one line and exits 2.
 */
export class UsageError extends Error {}

export interface FuzzArgs {
  seconds?: number;
  parsers: string[];
  seed?: number;
  path?: string;
  runs?: number;
  /** SIGKILL crash-loop iterations (test/integration/crash.test.ts) instead of the parsers. */
  crash?: number;
  list: boolean;
  timeoutMs: number;
}

/** The suite's own crash-loop length (test/integration/crash.test.ts); `--crash` runs at least this many. */
export const MIN_CRASH = 200;

/** A fast-check replay path: the case's index, then one shrink index per step ("12" or "1:0:3"). */
const PATH = /^\d+(:\d+)*$/;

export function parseFuzzArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): FuzzArgs {
  const o: FuzzArgs = { parsers: [], list: false, timeoutMs: 2000 };
  const num = (flag: string, v: string | undefined): number => {
    const n = v === undefined || v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(n)) throw new UsageError(`${flag} needs a number${v === undefined ? '' : `, not ${JSON.stringify(v)}`}`);
    return n;
  };
  // Seconds may be fractional; counts are whole. Zero or less would run nothing and still report "ok".
  const positive = (flag: string, v: string | undefined): number => {
    const n = num(flag, v);
    if (n <= 0) throw new UsageError(`${flag} must be greater than 0, not ${v}`);
    return n;
  };
  const count = (flag: string, v: string | undefined): number => {
    const n = positive(flag, v);
    if (!Number.isInteger(n)) throw new UsageError(`${flag} must be a whole number, not ${v}`);
    return n;
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--seconds') o.seconds = positive(flag, value());
    else if (flag === '--parser') o.parsers.push(...(value() ?? '').split(',').filter(Boolean));
    else if (flag === '--seed') {
      const s = num(flag, value());
      if (!Number.isInteger(s)) throw new UsageError(`--seed must be a whole number, not ${s}`);
      o.seed = s;
    } else if (flag === '--path') o.path = value();
    else if (flag === '--runs') o.runs = count(flag, value());
    else if (flag === '--crash') {
      o.crash = count(flag, value());
      // Fewer kills than the suite's own 200 leave a kind with one or two, too few for the loop's "the children got work done" checks.
      if (o.crash < MIN_CRASH) throw new UsageError(`--crash needs at least ${MIN_CRASH} kills (the suite already runs ${MIN_CRASH}), not ${o.crash}`);
    }
    else if (flag === '--timeout-ms') o.timeoutMs = positive(flag, value());
    else if (flag === '--list') o.list = true;
    else if (!a.startsWith('-')) positional.push(a);
    else throw new UsageError(`unknown argument ${a}`);
  }
  // `npm run fuzz --seconds 60 --parser x` (no `--`): npm keeps the flags as config
  // (npm_config_seconds=true) and passes their values on as plain arguments.
  for (const a of positional) {
    if (/^\d+(\.\d+)?$/.test(a) && o.seconds === undefined && env.npm_config_seconds === 'true') o.seconds = positive('--seconds', a);
    else if (env.npm_config_parser === 'true') o.parsers.push(...a.split(',').filter(Boolean));
    else throw new UsageError(`unknown argument ${a}`);
  }
  // Newer npm versions hand the values over as config instead.
  const envSeconds = env.npm_config_seconds;
  if (o.seconds === undefined && envSeconds && envSeconds !== 'true') o.seconds = positive('--seconds', envSeconds);
  if (o.parsers.length === 0 && env.npm_config_parser && env.npm_config_parser !== 'true') o.parsers.push(...env.npm_config_parser.split(','));
  if (o.path !== undefined) {
    if (!PATH.test(o.path)) throw new UsageError(`--path must be numbers separated by colons as the failure report prints it (e.g. 12 or 1:0:3), not ${JSON.stringify(o.path)}`);
    // A path only names a case together with the seed that generated it.
    if (o.seed === undefined) throw new UsageError('--path needs the --seed printed beside it in the failure report');
  }
  if (o.crash !== undefined && (o.parsers.length || o.path !== undefined || o.runs !== undefined || o.seconds !== undefined)) {
    throw new UsageError('--crash N runs the SIGKILL crash loop on its own: drop --parser, --path, --runs and --seconds (--seed repeats a loop)');
  }
  return o;
}
