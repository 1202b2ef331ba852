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
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; every usage error is 2.
      return e.exitCode === 0 ? 0 : 2;
    }
    io.err(`vouch: error: ${errorLine(e)}\n`);
    if (process.env.VOUCH_DEBUG && e instanceof Error) io.err(`${e.stack}\n`);
    return isVouchError(e) ? e.exitCode : 2;
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

if (isMainModule()) {
  main(process.argv.slice(2), {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
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
