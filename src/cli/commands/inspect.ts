import type { Command } from 'commander';
import { inspectReference } from '../../core/layers/inspect.js';
import { formatReference } from '../../core/ref/parse.js';
import type { OpenOptions } from '../../core/sources/image.js';
import { formatInspect } from '../format/inspect.js';
import { styleFor } from '../format/style.js';
import { progressReporter } from '../progress.js';
import { collect, parsePlatform } from '../options.js';
import type { CliIo } from '../io.js';

export interface InspectFlags {
  platform?: string;
  json?: boolean;
  cache: boolean;
  insecureRegistry?: string[];
}

export async function runInspect(ref: string, flags: InspectFlags, io: CliIo): Promise<number> {
  const opts: OpenOptions = {};
  if (flags.platform) opts.platform = parsePlatform(flags.platform);
  if (flags.insecureRegistry?.length) opts.insecureRegistries = flags.insecureRegistry;
  const progress = progressReporter();
  const { analysis, resolution } = await inspectReference(ref, {
    ...opts,
    noCache: !flags.cache,
    // Bench knob: measure the pass without catalogers (`npm run bench` compares both). Never with the cache on.
    ...(!flags.cache && process.env.VOUCH_BENCH_NO_CATALOGERS === '1' ? { catalogers: [] } : {}),
    onProgress: progress.update,
    // Say where a bare argument was found, before the long part; an explicit transport needs no telling.
    onResolved: (r) => {
      if (!flags.json && !r.how.startsWith('transport ')) io.err(`vouch: ${r.how}: ${formatReference(r.reference)}\n`);
    },
  }).finally(progress.done);
  if (flags.json) io.out(`${JSON.stringify({ ...analysis, resolvedBy: resolution.how }, null, 2)}\n`);
  else io.out(`${formatInspect(analysis, resolution.how, styleFor())}\n`);
  return 0;
}

export function registerInspect(program: Command, io: CliIo): void {
  program
    .command('inspect')
    .description('show what an image is: manifest, config, layers, files, wasted space, traceability')
    .argument('<ref>', 'image reference: docker://, oci:, oci-archive:, docker-archive:, docker-daemon:, or a bare path / name')
    .option('--platform <os/arch[/variant]>', "platform to pick from a multi-platform image (default: the host's)")
    .option('--json', 'print one JSON object')
    .option('--no-cache', 'analyse every layer again, ignoring and not writing the cache')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable); loopback is always allowed', collect)
    .action(async (ref: string, flags: InspectFlags) => {
      io.setExitCode(await runInspect(ref, flags, io));
    });
}
