import type { ImageAnalysis } from '../../core/layers/image-analysis.js';
import { sanitizeLine } from '../../core/util/sanitize.js';
import { clip, humanBytes, shortDigest, table } from './text.js';
import { noStyle, type Style } from './style.js';

/** Human summary of `vouch inspect`. */
export function formatInspect(a: ImageAnalysis, resolvedHow?: string, st: Style = noStyle): string {
  const out: string[] = [];
  const kv = (k: string, v: string): void => {
    out.push(`${st.bold(k.padEnd(12))}${v}`);
  };
  kv('Image', sanitizeLine(a.name));
  kv('Source', `${a.transport}${resolvedHow && !resolvedHow.startsWith('transport ') ? ` (${resolvedHow})` : ''}`);
  kv('Digest', `${sanitizeLine(a.digest)}${a.synthesizedManifest ? '  (manifest synthesised: the archive stores none)' : ''}`);
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
      [
        { header: '#', align: 'right' },
        { header: 'DIGEST' },
        { header: 'SIZE', align: 'right' },
        { header: 'FILES', align: 'right' },
        { header: '+', align: 'right' },
        { header: '~', align: 'right' },
        { header: '-', align: 'right' },
        { header: 'CREATED BY', max: 70 },
      ],
      a.layers.map((l) => [
        String(l.index),
        shortDigest(l.digest),
        humanBytes(l.sizeBytes),
        String(l.entries),
        String(l.added),
        String(l.modified),
        String(l.removed),
        (l.createdBy ?? '').replace(/^\/bin\/sh -c #\(nop\)\s*/, '').replace(/\s+/g, ' '),
      ]),
    ),
  );
  out.push('');
  out.push(`${st.bold('Files        ')}${a.files} (${humanBytes(a.totalBytes)} in regular files)`);
  out.push(`${st.bold('Image size   ')}${humanBytes(a.sizeBytes)} (user layers ${humanBytes(a.userSizeBytes)})`);
  out.push(`${st.bold('Efficiency   ')}${(a.efficiency * 100).toFixed(2)} %`);
  out.push(`${st.bold('Wasted       ')}${humanBytes(a.wastedBytes)} (${(a.userWastedPercent * 100).toFixed(2)} % of user layers)`);
  if (a.inefficientFiles.length) {
    out.push('');
    out.push(st.bold('Inefficient files'));
    const top = a.inefficientFiles.slice(0, 10);
    out.push(
      table(
        [{ header: 'COUNT', align: 'right' }, { header: 'WASTED', align: 'right' }, { header: 'PATH', max: 100 }],
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
