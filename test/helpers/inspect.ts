/** Run vouch's CLI in tests: in-process (fast) or as a child process (exit codes, stdout/stderr). */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

/** A private cache for this test process, unless the caller set one. */
export const testCacheDir: string = process.env.VOUCH_CACHE_DIR ?? mkdtempSync(join(tmpdir(), 'vouch-test-cache-'));
process.env.VOUCH_CACHE_DIR = testCacheDir;
/**
 * A pin journal of this test process's own (review/pin-journal.ts): test files running side by side reuse release
 * names ("demo 1.0.0") for other images, and one file's pins must not refuse another's approvals.
 */
process.env.VOUCH_STATE_DIR = mkdtempSync(join(tmpdir(), 'vouch-test-state-'));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (s) => (stdout += s), err: (s) => (stderr += s), setExitCode: () => {} });
  return { code, stdout, stderr };
}

/** `vouch inspect REF --json` in-process; throws with stderr when it fails. */
export async function inspectForTest(ref: string, extra: string[] = []): Promise<any> {
  const r = await runCli(['inspect', ref, '--json', ...extra]);
  if (r.code !== 0) throw new Error(`vouch inspect ${ref} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The command that runs the CLI as a child: dist's JS when compiled, else the TS source through tsx. */
export function cliCommand(): string[] {
  const js = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  if (existsSync(js)) return [process.execPath, js];
  return [process.execPath, '--import', 'tsx', js.replace(/\.js$/, '.ts')];
}

/** Run `node ARGV…` (the node running the tests) with `env` over this process's environment; collect its output. */
export function spawnNode(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const [, ...pre] = cliCommand();
  return spawnNode([...pre, ...args], env);
}
