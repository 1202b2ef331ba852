/**
 * 1 Overview: the release at a glance, what is left to review, and the
 * selected image's config (user, command, environment variable names — never
 * their values —, ports, labels), where Checks' Enter lands for an env subject.
 */
import { useContext, useEffect, useState } from 'react';
import { SEVERITIES, STEPS } from '../../core/checks/types.js';
import { LinesView, type Line } from '../components/lines.js';
import { shortDigest, wrapWords } from '../components/text.js';
import { useScreen, type JumpTarget } from '../context.js';
import { StoreContext } from '../state.js';
import { STEP_LABEL } from '../model.js';
import { decidingAnnotation } from '../session-map.js';
import type { DecisionRecord } from '../session-port.js';

export function OverviewScreen(): React.JSX.Element {
  const ctx = useScreen();
  const store = useContext(StoreContext);
  const { model, image, annotations, width } = ctx;
  const live = annotations.filter((a) => !a.deleted);
  // The last decision signed for this session (a reopened, approved session must not look undecided); undefined while read.
  const [decision, setDecision] = useState<DecisionRecord | null | undefined>(undefined);
  useEffect(() => {
    let on = true;
    const read = ctx.port.lastDecision?.() ?? Promise.resolve(null);
    void read.then((d) => on && setDecision(d), () => on && setDecision(null));
    return () => {
      on = false;
    };
  }, [ctx.port]);
  const lines: Line[] = [];
  const head = (t: string): void => void lines.push({ text: t, tone: 'header', bold: true });
  head(`Release ${model.release.name}${model.release.version ? ` ${model.release.version}` : ''}`);
  lines.push({ text: `  policy ${shortDigest(model.policyDigest)} (fails at ${model.failOn} and above)   trust ${model.trustSource}` });
  head(`Images (${model.images.length})`);
  for (const im of model.images) {
    const sig = im.chain ? (im.signed ? 'signed ✔' : im.chain.json.signatures.length ? 'signature not trusted ✘' : 'unsigned ✘') : 'signatures not read';
    const row = `  ${im.name.padEnd(10)} ${im.digest}  ${sig}`;
    // On a narrow terminal the signature status goes before the digest, which is what gets clipped.
    lines.push({
      text: [...row].length < width ? row : `  ${im.name.padEnd(10)} ${sig}  ${im.digest}`,
      tone: im.signed ? 'ok' : 'bad',
      subject: { subject: { image: im.name, kind: 'image', value: im.digest }, label: `image ${im.name}` },
    });
    lines.push({ text: `  ${''.padEnd(10)} ${im.reference}`, tone: 'dim' });
    // A synthesised digest: "unsigned" above is no verdict. The sentence `vouch chain` and `vouch check` print, wrapped.
    if (im.caveat) for (const [i, l] of wrapWords(`note: ${im.caveat}`, width - 17).entries()) lines.push({ text: `  ${''.padEnd(10)} ${i ? '  ' : ''}${l}`, tone: 'warn' });
  }
  head(`Traceability of ${image.name}`);
  const tr = image.chain?.json.traceability;
  if (tr) {
    for (const k of ['repository', 'revision', 'run'] as const) {
      const f = tr[k];
      lines.push({ text: `  ${k.padEnd(11)} ${f.value ?? '-'}${f.consistent ? '' : '   ✘ sources disagree'}`, tone: f.consistent ? (f.value ? undefined : 'warn') : 'bad' });
    }
  } else {
    lines.push({ text: `  repository  ${image.analysis.source.repository ?? '-'}` });
    lines.push({ text: `  revision    ${image.analysis.source.revision ?? '-'}` });
  }
  head('Checks by review step (all images)');
  const all = model.images.flatMap((im) => im.checks.map((r) => ({ im, r })));
  for (const step of STEPS) {
    const rs = all.filter((x) => x.r.step === step);
    const fail = rs.filter((x) => x.r.status === 'fail').length;
    const exc = rs.filter((x) => x.r.status === 'excepted').length;
    const pass = rs.filter((x) => x.r.status === 'pass').length;
    lines.push({ text: `  ${STEP_LABEL[step].padEnd(20)} ${String(fail).padStart(3)} failing  ${String(exc).padStart(3)} excepted  ${String(pass).padStart(3)} passed`, tone: fail ? 'bad' : 'ok' });
  }
  head('Findings by severity');
  const failing = all.filter((x) => x.r.status === 'fail');
  lines.push({ text: `  ${SEVERITIES.map((s) => `${s} ${failing.filter((x) => x.r.severity === s).length}`).join('   ')}` });
  lines.push({ text: `  manual annotations ${live.length} (must-fix ${live.filter((a) => a.disposition === 'must-fix').length})` });
  head('Left to review');
  // A result is decided by an annotation on it or on the exact file/package/layer it names (the core's rule); a note decides nothing.
  const open = failing.filter((x) => {
    const a = decidingAnnotation(live, x.im.name, x.r);
    return !a || a.disposition === 'note';
  });
  lines.push({ text: `  ${open.length} failing result${open.length === 1 ? '' : 's'} without a disposition (screen 7 Findings)`, tone: open.length ? 'warn' : 'ok' });
  lines.push(
    decision === undefined || decision === null
      ? { text: `  decision: ${decision === null ? 'not decided yet (screen 8 Approve)' : '…'}` }
      : { text: `  decision: ${decision.decision} by ${decision.reviewer}${decision.path ? ` · ${decision.verified ? 'signed record' : 'record does NOT verify'} ${decision.path}` : ' (not signed)'}`, tone: decision.verified ? 'ok' : 'warn' },
  );
  if (model.warnings.length) {
    head('Warnings');
    for (const w of model.warnings) lines.push({ text: `  ${w}`, tone: 'warn' });
  }
  const c = image.analysis.config;
  const imageSubject = { subject: { image: image.name, kind: 'image' as const, value: image.digest }, label: `image ${image.name}` };
  const envLine = new Map<string, number>();
  head(`Config of ${image.name}`);
  lines.push({ text: `  user        ${c.user || '(root)'}`, tone: c.user && c.user !== 'root' && c.user !== '0' ? undefined : 'warn', subject: imageSubject });
  lines.push({ text: `  entrypoint  ${c.entrypoint ? JSON.stringify(c.entrypoint) : '-'}   cmd ${c.cmd ? JSON.stringify(c.cmd) : '-'}`, subject: imageSubject });
  if (c.workingDir) lines.push({ text: `  workdir     ${c.workingDir}`, subject: imageSubject });
  if (c.exposedPorts.length) lines.push({ text: `  ports       ${c.exposedPorts.join(', ')}`, subject: imageSubject });
  const flagged = new Set(image.checks.filter((r) => r.status !== 'pass' && r.subject.env).map((r) => r.subject.env!));
  for (const e of c.env) {
    const eq = e.indexOf('=');
    const name = eq >= 0 ? e.slice(0, eq) : e;
    envLine.set(name, lines.length);
    lines.push({ text: `  env         ${name}${flagged.has(name) ? '   ✘ flagged by a check (value not shown)' : ''}`, tone: flagged.has(name) ? 'bad' : undefined, subject: imageSubject });
  }
  for (const [k, v] of Object.entries(c.labels)) lines.push({ text: `  label       ${k}=${v}`, tone: 'dim', subject: imageSubject });
  // A jump from Checks to an environment variable: put the cursor on its line.
  const jumpKey = `jump:overview:${ctx.imageIndex}`;
  const pending = store.get(jumpKey) as Extract<JumpTarget, { screen: 'overview' }> | undefined;
  let missing: string | null = null;
  if (pending) {
    store.delete(jumpKey);
    const at = envLine.get(pending.env);
    // A variable the config does not set: say so rather than put the cursor on another line.
    if (at === undefined) missing = `${pending.env} is not in the config of ${image.name}: nothing to show`;
    else store.set(`overview:${ctx.imageIndex}:cursor`, { cursor: at, offset: Math.max(0, at - 2) });
  }
  useEffect(() => {
    if (missing) ctx.say(missing);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [missing]);
  return <LinesView id="overview" lines={lines} />;
}
