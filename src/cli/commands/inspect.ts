import type { Command } from 'commander';
import { inspectReference } from '../../core/layers/inspect.js';
import { formatDockerReference, formatReference } from '../../core/ref/parse.js';
import { daemonRepoDigest } from '../../core/trust/daemon-registry.js';
import { redactAnalysis } from '../../core/util/redact.js';
import type { OpenOptions } from '../../core/sources/image.js';
import { formatInspect } from '../format/inspect.js';
import { styleFor } from '../format/style.js';
import { progressReporter } from '../progress.js';
import { collect, parsePlatform } from '../options.js';
import type { CliIo } from '../io.js';
import { terminalSafeJson } from '../../core/util/sanitize.js';

export interface InspectFlags {
  platform?: string;
  json?: boolean;
  cache: boolean;
  verify?: boolean;
  insecureRegistry?: string[];
  showSecrets?: boolean;
}

export async function runInspect(ref: string, flags: InspectFlags, io: CliIo): Promise<number> {
  const opts: OpenOptions = {};
  if (flags.platform) opts.platform = parsePlatform(flags.platform);
  if (flags.insecureRegistry?.length) opts.insecureRegistries = flags.insecureRegistry;
  const progress = progressReporter();
  const { analysis: inspected, resolution } = await inspectReference(ref, {
    ...opts,
    noCache: !flags.cache,
    ...(flags.verify ? { verify: true } : {}),
    // Bench knob: measure the pass without catalogers (`npm run bench` compares both). Never with the cache on.
    ...(!flags.cache && process.env.VOUCH_BENCH_NO_CATALOGERS === '1' ? { catalogers: [] } : {}),
    onProgress: progress.update,
    // Say where a bare argument was found, before the long part; an explicit transport needs no telling.
    onResolved: (r) => {
      if (!flags.json && !r.how.startsWith('transport ')) io.err(`vouch: ${r.how}: ${formatReference(r.reference)}\n`);
    },
  }).finally(progress.done);
  // One redaction rule for every command and format (src/core/util/redact.ts); --show-secrets opts out.
  const analysis = flags.showSecrets ? inspected : redactAnalysis(inspected);
  // A daemon image's digest is synthesised; the daemon may know the registry digest it was pulled by (what chain and check use).
  const daemonName = resolution.reference.transport === 'docker-daemon' ? resolution.reference.name : null;
  const twin = daemonName ? await daemonRepoDigest(daemonName).catch(() => null) : null;
  const repoDigest = twin ? formatDockerReference(twin) : null;
  if (flags.json) io.out(`${terminalSafeJson({ ...analysis, resolvedBy: resolution.how, ...(daemonName ? { daemonRepoDigest: repoDigest } : {}) }, 2)}\n`);
  else io.out(`${formatInspect(analysis, resolution.how, styleFor(), repoDigest)}\n`);
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
    .option('--verify', 'with a cached analysis, re-hash every layer blob of the source (by default each blob is checked to exist with its manifest size)')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable); loopback is always allowed', collect)
    .option('--show-secrets', 'print secret-looking env values, labels and history lines as they are (redacted by default)')
    .action(async (ref: string, flags: InspectFlags) => {
      io.setExitCode(await runInspect(ref, flags, io));
    });
}
