import type { Command } from 'commander';
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
      const demo = await ensureDemoImage(defaultCacheDir());
      if (!flags.json) io.err(`vouch: demo image ${demo.generated ? 'generated' : 'found'} in ${demo.dir}\n`);
      const ref = `oci:${demo.dir}:${demo.tag}`;
      io.setExitCode(await runInspect(ref, { json: flags.json ?? false, cache: true }, io));
      if (!flags.json) {
        io.err(`\nnext, on the same image (vouch: npm link in the clone, or node dist/src/cli/main.js):\n  vouch sbom ${ref}\n  vouch check ${ref}\n  vouch chain ${ref}\n`);
      }
    });
}
