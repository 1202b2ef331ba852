import type { Command } from 'commander';
import { join } from 'node:path';
import { defaultCacheDir } from '../../core/cache/cache.js';
import { ensureDemoImage } from '../../core/demo/demo-image.js';
import type { CliIo } from '../io.js';
import { runInspect } from './inspect.js';

/** `npm start`: the most useful command on an image vouch generates itself (no Docker, no registry, no network). */
export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('generate a small demo image (no Docker, registry or network needed) and inspect it')
    .option('--json', 'print one JSON object')
    .action(async (flags: { json?: boolean }) => {
      const dir = join(defaultCacheDir(), 'demo-image');
      const demo = await ensureDemoImage(dir);
      if (!flags.json) io.err(`vouch: demo image generated in ${dir}\n`);
      io.setExitCode(await runInspect(`oci:${dir}:${demo.tag}`, { json: flags.json ?? false, cache: true }, io));
    });
}
