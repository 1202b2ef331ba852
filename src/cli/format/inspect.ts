import type { ImageAnalysis } from '../../core/layers/image-analysis.js';
import { sanitizeLine } from '../../core/util/sanitize.js';
import { clip, humanBytes, LAYER_SIZES_LEGEND, shortDigest, table, WHOLE } from './text.js';
import { noStyle, type Style } from './style.js';

/** What "wasted" means: dive's figure, which can pass 100 % and then reads like a bug without this line. */
export const WASTED_HELP = '             wasted, as dive counts it: every copy of a path written by more than one layer (the kept copy and base-layer copies too), so it can exceed 100 % of the user layers';

/** Human summary of `vouch inspect`. `repoDigest`: for a daemon image, the registry reference the daemon recorded for it (RepoDigests). */
export function formatInspect(a: ImageAnalysis, resolvedHow?: string, st: Style = noStyle, repoDigest: string | null = null): string {
  const out: string[] = [];
  const kv = (k: string, v: string): void => {
    out.push(`${st.bold(k.padEnd(12))}${v}`);
  };
  kv('Image', sanitizeLine(a.name));
  kv('Source', `${a.transport}${resolvedHow && !resolvedHow.startsWith('transport ') ? ` (${resolvedHow})` : ''}`);
  const daemon = a.transport === 'docker-daemon';
  const synthesised = daemon ? '  (manifest synthesised: the Docker daemon keeps no registry manifest)' : a.synthesizedManifest ? '  (manifest synthesised: the archive stores none)' : '';
  kv('Digest', `${sanitizeLine(a.digest)}${synthesised}`);
  if (daemon && repoDigest) kv('RepoDigest', `${sanitizeLine(repoDigest)}  (recorded by the daemon: the registry image chain and check verify, matched by config digest)`);
  if (a.index) kv('Index', sanitizeLine(a.index.digest));
  // os / architecture / variant are whatever strings the image config holds.
  kv('Platform', clip(`${a.platform.os}/${a.platform.architecture}${a.platform.variant ? `/${a.platform.variant}` : ''}`, 100));
  kv('Config', sanitizeLine(a.config.digest));
  if (a.config.created) kv('Created', sanitizeLine(a.config.created));
  kv('User', a.config.user ? sanitizeLine(a.config.user) : st.warn('root (no USER set)'));
  if (a.config.entrypoint) kv('Entrypoint', clip(JSON.stringify(a.config.entrypoint), 100));
  if (a.config.cmd) kv('Cmd', clip(JSON.stringify(a.config.cmd), 100));
  if (a.config.workingDir) kv('WorkingDir', sanitizeLine(a.config.workingDir));
  if (a.config.exposedPorts.length) kv('Ports', sanitizeLine(a.config.exposedPorts.join(', ')));
  if (a.config.volumes.length) kv('Volumes', sanitizeLine(a.config.volumes.join(', ')));
  for (const [i, e] of a.config.env.entries()) kv(i === 0 ? 'Env' : '', clip(e, 100));
  const labels = Object.entries(a.config.labels);
  for (const [i, [k, v]] of labels.entries()) kv(i === 0 ? 'Labels' : '', clip(`${k}=${v}`, 100));
  const t = a.traceability;
  kv('Repository', t.repository ? clip(t.repository, 100) : st.warn('(none: no org.opencontainers.image.source)'));
  kv('Revision', t.revision ? clip(t.revision, 100) : st.warn('(none: no org.opencontainers.image.revision)'));
  if (t.baseName || t.baseDigest) kv('Base image', clip(`${t.baseName ?? '?'}${t.baseDigest ? `@${t.baseDigest}` : ''}`, 100));
  for (const k of t.conflicts) kv('Conflict', st.bad(clip(`${k}: ${t.evidence[k]!.map((e) => `${e.value} (${e.from})`).join(' vs ')}`, 140)));
  out.push('');
  out.push(st.bold(`Layers (${a.layers.length})`));
  out.push(
    table(
      // Narrow terminals keep the layer number, what made it and its size; counts go first, then the tar size, then the digest.
      [
        { header: '#', align: 'right', priority: 1, min: WHOLE },
        { header: 'DIGEST', priority: 3, min: WHOLE },
        { header: 'FILES SIZE', align: 'right', priority: 2, min: WHOLE },
        { header: 'TAR SIZE', align: 'right', priority: 4, min: WHOLE },
        { header: 'ENTRIES', align: 'right', priority: 6, min: WHOLE },
        { header: '+', align: 'right', priority: 5, min: WHOLE },
        { header: '~', align: 'right', priority: 5, min: WHOLE },
        { header: '-', align: 'right', priority: 5, min: WHOLE },
        { header: 'CREATED BY', max: 70, priority: 1, min: 24 },
      ],
      a.layers.map((l) => [
        String(l.index),
        shortDigest(l.digest),
        humanBytes(l.sizeBytes),
        humanBytes(l.uncompressedSize),
        String(l.entries),
        String(l.added),
        String(l.modified),
        String(l.removed),
        (l.createdBy ?? '').replace(/^\/bin\/sh -c #\(nop\)\s*/, '').replace(/\s+/g, ' '),
      ]),
    ),
  );
  out.push(st.dim(LAYER_SIZES_LEGEND));
  out.push('');
  // Bytes are counted per path (as find and du --count-links do): a hard-linked busybox counts once per name, so say how many names share.
  const kinds = [a.symlinks ? `${a.symlinks} symlink${a.symlinks === 1 ? '' : 's'}` : '', a.hardLinks ? `${a.hardLinks} hard link${a.hardLinks === 1 ? '' : 's'}` : ''].filter(Boolean);
  const perPath = a.hardLinks ? ', each hard link counted with its file\'s bytes' : '';
  out.push(`${st.bold('Files        ')}${a.files} (${kinds.length ? `${kinds.join(', ')}; ` : ''}${humanBytes(a.totalBytes)} in regular files${perPath})`);
  const special = a.specialFiles ?? [];
  if (special.length > 0) {
    // Device nodes and FIFOs: not in the count above, named here (a few at most in a real image).
    const shown = special.slice(0, 5).map((f) => `${sanitizeLine(f.path)} (${f.type}${f.type === 'fifo' ? '' : ` ${f.devmajor},${f.devminor}`})`);
    out.push(`${st.bold('Devices      ')}${special.length}: ${shown.join(', ')}${special.length > 5 ? `, … and ${special.length - 5} more (--json lists all)` : ''}`);
  }
  if (a.setuidFiles) {
    // The JSON's setuidFiles: by the hard-link-group rule, as check and diff judge.
    const n = a.setuidFiles.length;
    const shown = a.setuidFiles.slice(0, 5).map(sanitizeLine);
    const more = n > 5 ? `, … and ${n - 5} more (--json lists all)` : '';
    out.push(`${st.bold('Setuid       ')}${n}${n ? `: ${shown.join(', ')}${more}` : ''}`);
  }
  if (a.cache) out.push(`${st.bold('Analysis     ')}${cacheLine(a.cache)}`);
  out.push(`${st.bold('Image size   ')}${humanBytes(a.sizeBytes)} (user layers ${humanBytes(a.userSizeBytes)})`);
  out.push(`${st.bold('Efficiency   ')}${(a.efficiency * 100).toFixed(2)} %`);
  out.push(`${st.bold('Wasted       ')}${humanBytes(a.wastedBytes)} (${(a.userWastedPercent * 100).toFixed(2)} % of user layers)`);
  out.push(st.dim(WASTED_HELP));
  if (a.inefficientFiles.length) {
    out.push('');
    out.push(st.bold('Inefficient files'));
    const top = a.inefficientFiles.slice(0, 10);
    out.push(
      table(
        [{ header: 'COUNT', align: 'right', priority: 2, min: WHOLE }, { header: 'WASTED', align: 'right', priority: 2, min: WHOLE }, { header: 'PATH', max: 100, priority: 1, min: 32 }],
        top.map((f) => [String(f.count), humanBytes(f.wastedBytes), f.path]),
      ),
    );
    if (a.inefficientFiles.length > top.length) out.push(`… and ${a.inefficientFiles.length - top.length} more (--json lists all)`);
  }
  const warnings = [...a.warnings, ...a.layers.flatMap((l) => l.warnings.map((w) => `layer ${l.index}: ${w}`))];
  if (warnings.length) {
    out.push('');
    for (const w of warnings.slice(0, 20)) out.push(st.warn(`warning: ${sanitizeLine(w)}`));
    if (warnings.length > 20) out.push(`warning: … and ${warnings.length - 20} more`);
  }
  return out.join('\n');
}

/** Where the analysis came from and how the source was checked (a cached analysis is only as good as that check). */
function cacheLine(c: NonNullable<ImageAnalysis['cache']>): string {
  if (!c.hit) return `walked now (${c.analysedAt ?? c.verifiedAt}), every blob verified by digest`;
  const how = { sizes: 'every blob present with its manifest size (--verify re-hashes them)', full: 'every blob re-hashed', 'image-id': 'the daemon holds the image by its ID', none: 'the source offers no check' }[c.verification];
  return `from the cache (analysed ${c.analysedAt ?? 'earlier'}); verified ${c.verifiedAt}: ${how}`;
}
