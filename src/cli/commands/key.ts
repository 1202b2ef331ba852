/** `vouch key generate --out PREFIX`: an approval signing key pair (PREFIX.key, encrypted, 0600; PREFIX.pub). */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { VouchError } from '../../core/errors.js';
import { generateApprovalKey } from '../../core/approval/key.js';
import { readPassphrase } from '../passphrase.js';
import type { CliIo } from '../io.js';
import { terminalSafeJson } from '../../core/util/sanitize.js';

export function registerKey(program: Command, io: CliIo): void {
  const cmd = program.command('key').description('approval signing keys');
  cmd
    .command('generate')
    .description('write PREFIX.key (ECDSA P-256, encrypted PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM)')
    .requiredOption('--out <prefix>', 'path prefix of the two files')
    .option('--json', 'print one JSON object')
    .action(async (flags: { out: string; json?: boolean }) => {
      // Refused before the passphrase is typed twice for nothing (generateApprovalKey refuses it too, atomically).
      if (existsSync(`${flags.out}.key`)) throw new VouchError('USAGE', `${resolve(`${flags.out}.key`)}: already exists; not overwriting a key`);
      const pass = await readPassphrase('key generate', true);
      const k = await generateApprovalKey(flags.out, pass);
      if (flags.json) io.out(`${terminalSafeJson(k, 2)}\n`);
      else io.out(`private key ${k.privatePath} (0600)\npublic key  ${k.publicPath}\nkey id      ${k.keyId}\n`);
      io.setExitCode(0);
    });
}
