/**
 * 4 Diff: against the baseline — packages added / removed / changed with
 * upgrade (↑) and downgrade (↓) marks, licence changes, config and layer
 * changes. `/` filters the lines.
 */
import { LinesView, type Line } from '../components/lines.js';
import { humanBytes, shortDigest } from '../components/text.js';
import { useScreen } from '../context.js';

const argv = (a: string[] | null): string => (a === null ? '(none)' : JSON.stringify(a));

export function DiffScreen(): React.JSX.Element {
  const { image, filter } = useScreen();
  const d = image.diff;
  const lines: Line[] = [];
  if (!d) {
    lines.push({ text: 'No baseline: start with --baseline APPROVAL|REF|SBOM (or a release file naming one) to see what changed.', tone: 'warn' });
    return <LinesView id="diff" lines={lines} />;
  }
  const purlOf = (type: string, name: string): string | undefined => image.packages.find((p) => p.type === type && p.name === name)?.purl;
  const pkgLine = (text: string, tone: Line['tone'], type: string, name: string, purl?: string): Line => {
    const value = purl ?? purlOf(type, name);
    return value ? { text, tone, subject: { subject: { image: image.name, kind: 'package', value }, label: `package ${value}` } } : { text, tone };
  };
  const p = d.packages;
  const up = p.changed.filter((c) => c.direction === 'upgrade').length;
  const down = p.changed.filter((c) => c.direction === 'downgrade').length;
  const body: Line[] = [];
  body.push({ text: `Packages: ${p.added.length} added, ${p.removed.length} removed, ${p.changed.length} changed (${up} ↑ upgraded, ${down} ↓ downgraded)`, tone: 'header', bold: true });
  for (const c of p.changed) {
    const mark = c.direction === 'upgrade' ? '↑' : c.direction === 'downgrade' ? '↓' : '?';
    body.push(pkgLine(`  ${mark} ${c.type.padEnd(6)} ${c.name}  ${c.from} → ${c.to}${c.direction === 'downgrade' ? '   DOWNGRADE' : ''}`, c.direction === 'downgrade' ? 'bad' : 'modified', c.type, c.name));
  }
  for (const a of p.added) body.push(pkgLine(`  + ${a.type.padEnd(6)} ${a.name} ${a.version}`, 'added', a.type, a.name, a.purl));
  for (const r of p.removed) body.push({ text: `  - ${r.type.padEnd(6)} ${r.name} ${r.version}`, tone: 'removed' });
  body.push({ text: `Licence changes: ${p.licenseChanges.length}`, tone: 'header', bold: true });
  for (const l of p.licenseChanges) body.push(pkgLine(`  ~ ${l.type.padEnd(6)} ${l.name}  ${l.from.join(', ') || '(none)'} → ${l.to.join(', ') || '(none)'}`, 'warn', l.type, l.name));
  if (d.config) {
    const c = d.config;
    body.push({ text: 'Config', tone: 'header', bold: true });
    if (c.user) body.push({ text: `  ~ User ${c.user.from || '(root)'} → ${c.user.to || '(root)'}`, tone: 'modified' });
    for (const e of c.env.added) body.push({ text: `  + Env ${e.name}=${e.value}`, tone: 'added' });
    for (const e of c.env.removed) body.push({ text: `  - Env ${e.name}=${e.value}`, tone: 'removed' });
    for (const e of c.env.changed) body.push({ text: `  ~ Env ${e.name} ${e.from} → ${e.to}`, tone: 'modified' });
    if (c.entrypoint) body.push({ text: `  ~ Entrypoint ${argv(c.entrypoint.from)} → ${argv(c.entrypoint.to)}`, tone: 'modified' });
    if (c.cmd) body.push({ text: `  ~ Cmd ${argv(c.cmd.from)} → ${argv(c.cmd.to)}`, tone: 'modified' });
    if (c.workingDir) body.push({ text: `  ~ WorkingDir ${c.workingDir.from} → ${c.workingDir.to}`, tone: 'modified' });
    for (const x of c.exposedPorts.added) body.push({ text: `  + ExposedPort ${x}`, tone: 'added' });
    for (const x of c.exposedPorts.removed) body.push({ text: `  - ExposedPort ${x}`, tone: 'removed' });
    for (const e of c.labels.added) body.push({ text: `  + Label ${e.name}=${e.value}`, tone: 'added' });
    for (const e of c.labels.removed) body.push({ text: `  - Label ${e.name}=${e.value}`, tone: 'removed' });
    for (const e of c.labels.changed) body.push({ text: `  ~ Label ${e.name} ${e.from} → ${e.to}`, tone: 'modified' });
  }
  if (d.layers) {
    const l = d.layers;
    body.push({ text: `Layers: ${l.shared.length} shared, ${l.added.length} added, ${l.removed.length} removed`, tone: 'header', bold: true });
    for (const x of l.added) body.push({ text: `  + ${shortDigest(x.diffId)} ${humanBytes(x.sizeBytes)} ${x.createdBy ?? ''}`, tone: 'added' });
    for (const x of l.removed) body.push({ text: `  - ${shortDigest(x.diffId)} ${humanBytes(x.sizeBytes)} ${x.createdBy ?? ''}`, tone: 'removed' });
  }
  if (d.files) {
    const f = d.files;
    body.push({ text: `Files: ${f.added.count} added, ${f.removed.count} removed, ${f.changed.count} changed`, tone: 'header', bold: true });
    // Every file, review-relevant ones first (core's order), their reasons shown.
    const why = (x: { review?: readonly string[] }): string => (x.review?.length ? ` [${x.review.join(', ')}]` : '');
    for (const x of f.added.files) body.push({ text: `  + ${x.path} ${humanBytes(x.size)}${why(x)}`, tone: 'added', subject: { subject: { image: image.name, kind: 'path', value: x.path }, label: `file ${x.path}` } });
    for (const x of f.removed.files) body.push({ text: `  - ${x.path} ${humanBytes(x.size)}${why(x)}`, tone: 'removed' });
    for (const x of f.changed.files) body.push({ text: `  ~ ${x.path} ${x.fields.join(', ')}${why(x)}`, tone: 'modified', subject: { subject: { image: image.name, kind: 'path', value: x.path }, label: `file ${x.path}` } });
  }
  // The baseline is the side without an image here (the target is always the image under review).
  if (!d.config) body.push({ text: 'Config, layers and files: not compared (the baseline is an approval record or SBOM: package lists only)', tone: 'dim' });
  lines.push({ text: `baseline ${image.baselineLabel ?? '-'}`, tone: 'dim' });
  const f = filter.toLowerCase();
  lines.push(...(f ? body.filter((l) => l.bold || l.text.toLowerCase().includes(f)) : body));
  return <LinesView id="diff" lines={lines} />;
}
