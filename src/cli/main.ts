#!/usr/bin/env node
/**
 * The vouch command line. Each command maps flags to one core call and prints
 * text or JSON; errors become one line on stderr and exit code 2 (bad input,
 * unreachable source) or 1 (policy failure).
 */
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorLine, isVouchError } from '../core/errors.js';
import { withCacheRejections } from '../core/cache/events.js';
import { sanitizeLine } from '../core/util/sanitize.js';
import { setCacheUnusableSink } from '../core/cache/cache.js';
import { releaseHeldLocksSync } from '../core/util/held-locks.js';
import type { CliIo } from './io.js';
import type { Command as CommandType } from 'commander';

type Register = (program: CommandType, io: CliIo) => void;

/**
 * Commands, loaded on demand: a run loads only the module of the command it
 * runs (the trust and SBOM libraries cost a few hundred milliseconds and tens of
 * MB to load, which `vouch inspect` on a cached image should not pay).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  inspect: async () => (await import('./commands/inspect.js')).registerInspect,
  sbom: async () => (await import('./commands/sbom.js')).registerSbom,
  diff: async () => (await import('./commands/diff.js')).registerDiff,
  chain: async () => (await import('./commands/chain.js')).registerChain,
  check: async () => (await import('./commands/check.js')).registerCheck,
  'verify-bundle': async () => (await import('./commands/verify-bundle.js')).registerVerifyBundle,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  session: async () => (await import('./commands/session.js')).registerSession,
  annotate: async () => (await import('./commands/annotate.js')).registerAnnotate,
  key: async () => (await import('./commands/key.js')).registerKey,
  approve: async () => (await import('./commands/approve.js')).registerApprove,
  verify: async () => (await import('./commands/verify.js')).registerVerify,
  gate: async () => (await import('./commands/gate.js')).registerGate,
  drift: async () => (await import('./commands/drift.js')).registerDrift,
  attach: async () => (await import('./commands/attach.js')).registerAttach,
  policy: async () => (await import('./commands/policy.js')).registerPolicy,
  review: async () => (await import('./commands/review.js')).registerReview,
  config: async () => (await import('./commands/config.js')).registerConfig,
};

const require = createRequire(import.meta.url);

function version(): string {
  for (const p of ['../../package.json', '../../../package.json']) {
    try {
      return (require(p) as { version: string }).version;
    } catch {
      /* try the next layout (src vs dist) */
    }
  }
  return '0.0.0';
}

/** The program with the commands `argv` needs: the one it names, or all of them (help, unknown commands). */
export async function buildProgram(io: CliIo, argv: readonly string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('vouch')
    .description('security review of immutable releases: images, layers, SBOMs, signatures, approvals')
    .version(version())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  const first = argv.find((a) => !a.startsWith('-'));
  const names = first !== undefined && first in COMMANDS ? [first] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((n) => COMMANDS[n]!()))) register(program, io);
  return program;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  let code = 0;
  const ioWithCode: CliIo = { ...io, setExitCode: (c) => (code = c) };
  const program = await buildProgram(ioWithCode, argv);
  // A cache entry refused as corrupt is rebuilt without fuss, but said once, on stderr (never in --json stdout);
  // under the full-screen review, once the screen is given back.
  const refused = new Set<string>();
  const later: string[] | null = argv.find((a) => !a.startsWith('-')) === 'review' ? [] : null;
  const onRefused = (r: { namespace: string; key: string; reason: string }): void => {
    const id = `${r.namespace} ${r.key}`;
    if (refused.has(id)) return;
    refused.add(id);
    const line = `vouch: cache entry ${sanitizeLine(id)} was corrupt (${sanitizeLine(r.reason.slice(0, 300))}); removed, rebuilt from the source\n`;
    if (later) later.push(line);
    else io.err(line);
  };
  // An unwritable cache folder is a warning, once per folder: the command still completes.
  const warned = new Set<string>();
  const command = argv.find((a) => !a.startsWith('-'));
  const noCache = command === 'inspect' || command === 'sbom' || command === 'diff' ? ', or pass --no-cache' : '';
  const prevSink = setCacheUnusableSink((u) => {
    if (warned.has(u.dir)) return;
    warned.add(u.dir);
    io.err(`vouch: warning: cache folder ${u.dir} is not usable (${u.code}: ${u.reason}); continuing without the cache (set VOUCH_CACHE_DIR to a writable folder${noCache})\n`);
  });
  try {
    try {
      await withCacheRejections(onRefused, () => program.parseAsync(argv, { from: 'user' }));
    } finally {
      for (const line of later ?? []) io.err(line);
    }
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; every usage error is 2.
      return e.exitCode === 0 ? 0 : 2;
    }
    io.err(`vouch: error: ${errorLine(e)}\n`);
    if (process.env.VOUCH_DEBUG && e instanceof Error) io.err(`${e.stack}\n`);
    return isVouchError(e) ? e.exitCode : 2;
  } finally {
    setCacheUnusableSink(prevSink);
  }
}

function isMainModule(): boolean {
  // npx and npm bin links are symlinks: compare real paths.
  try {
    return realpathSync(process.argv[1] ?? '') === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

/**
 * The reader went away (`vouch … | head`): nothing more can be said to it, so
 * later writes are dropped quietly (no EPIPE trace) while the command runs to
 * its verdict: `vouch check … | head -c 10` exits 1 on a failing check, as it
 * does unpiped (a gate reading PIPESTATUS must not see a pass).
 */
const closed = new Set<NodeJS.WriteStream>();
function quietOnEpipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') {
      closed.add(stream);
      return;
    }
    throw e;
  });
}
const writeTo = (stream: NodeJS.WriteStream) => (s: string): void => {
  if (!closed.has(stream)) stream.write(s);
};

if (isMainModule()) {
  quietOnEpipe(process.stdout);
  quietOnEpipe(process.stderr);
  // Interrupted: remove the session lock this run holds (saves are atomic, so nothing half-written stays), then
  // die of the signal as if unhandled (the shell's 130 / 143). Re-raised rather than process.exit(): exit waits for
  // the thread pool, and a read stuck on a slow mount there would keep the process alive.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      releaseHeldLocksSync();
      process.kill(process.pid, signal);
    });
  }
  main(process.argv.slice(2), {
    out: writeTo(process.stdout),
    err: writeTo(process.stderr),
    setExitCode: () => {},
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`vouch: internal error: ${errorLine(e)}\n`);
      process.exitCode = 2;
    },
  );
}
