/**
 * 5 Chain: a tree for the selected image — each signature and attestation →
 * signer (key, or certificate subject/issuer) → CA → trusted root, its log
 * entry; the provenance → repository/commit/run; the traceability sources.
 * Each node green or red with its reason code.
 */
import { useContext, useEffect } from 'react';
import type { ChainSigner } from '../../core/trust/chain.js';
import { LinesView, type Line } from '../components/lines.js';
import { shortDigest } from '../components/text.js';
import { useScreen, type JumpTarget } from '../context.js';
import { StoreContext } from '../state.js';

function signerText(s: ChainSigner | null): string {
  if (!s) return 'unknown signer';
  const who = s.type === 'key' ? `key ${(s.keyId ?? '?').slice(0, 16)}` : `${s.subject ?? '?'} (issuer ${s.issuer ?? '?'})`;
  return `${who}${s.trustedAs ? ` — trusted as ${s.trustedAs}` : ' — not in the trust file'}`;
}

export function ChainScreen(): React.JSX.Element {
  const ctx = useScreen();
  const store = useContext(StoreContext);
  const { image } = ctx;
  const lines: Line[] = [];
  const chain = image.chain;
  const sigLine = new Map<number, number>();
  if (!chain) {
    lines.push({ text: `${image.name} ${image.digest}`, bold: true });
    lines.push({ text: '  signatures were not read for this image (daemon images and archives carry no attachments)', tone: 'warn' });
  } else {
    const j = chain.json;
    const ok = image.signed;
    const verdict = ok ? '✔ a trusted signature verifies' : '✘ no trusted signature verifies';
    // On a narrow terminal the verdict goes before the digest, which is what gets clipped.
    const head = `${image.name} ${j.image.digest}  ${verdict}`;
    lines.push({ text: [...head].length < ctx.width ? head : `${image.name} ${verdict}  ${j.image.digest}`, tone: ok ? 'ok' : 'bad', bold: true });
    lines.push({ text: `  trust ${chain.trustSource} · root ${chain.trustedRootSource}`, tone: 'dim' });
    if (j.signatures.length === 0) lines.push({ text: '├ signatures: none attached  ✘ UNSIGNED', tone: 'bad' });
    j.signatures.forEach((x, i) => {
      sigLine.set(i + 1, lines.length);
      const tone = x.verified ? ('ok' as const) : ('bad' as const);
      lines.push({
        text: `├ signature #${i + 1} ${x.kind}  ${x.verified ? '✔ verified' : `✘ ${x.reason}`}`,
        tone,
        subject: { subject: { image: image.name, kind: 'signature', value: String(i + 1) }, label: `signature #${i + 1} of ${image.name}` },
      });
      if (!x.verified) lines.push({ text: `│   ${chain.signatureMessages[i] ?? ''}`, tone: 'bad' });
      lines.push({ text: `│ ├ signer  ${signerText(x.signer)}`, tone: x.signer?.trustedAs ? 'ok' : 'bad' });
      lines.push({ text: `│ ├ CA      ${x.signer?.type === 'keyless' ? `certificate issued by the Fulcio CA of the trusted root` : 'none: a key signature (the key is the identity)'}` });
      lines.push({ text: `│ ├ root    ${x.signer?.type === 'keyless' ? chain.trustedRootSource : chain.trustSource}` });
      lines.push({ text: `│ └ log     ${x.tlog ? `index ${x.tlog.logIndex}${x.tlog.integratedTime ? ` at ${x.tlog.integratedTime}` : ''}` : 'no transparency-log entry'}`, tone: x.tlog ? undefined : 'warn' });
    });
    if (j.attestations.length === 0) lines.push({ text: '├ attestations: none attached', tone: 'warn' });
    j.attestations.forEach((x, i) => {
      lines.push({
        text: `├ attestation ${shortDigest(x.digest)} ${x.predicateType ?? '?'}  ${x.verified ? '✔ verified' : `✘ ${x.reason}`}`,
        tone: x.verified ? 'ok' : 'bad',
        subject: { subject: { image: image.name, kind: 'signature', value: x.digest }, label: `attestation ${shortDigest(x.digest)}` },
      });
      if (!x.verified) lines.push({ text: `│   ${chain.attestationMessages[i] ?? ''}`, tone: 'bad' });
      lines.push({ text: `│ └ signer  ${signerText(x.signer)}`, tone: x.signer?.trustedAs ? 'ok' : 'bad' });
    });
    const p = chain.provenanceDetail;
    if (!p) lines.push({ text: '├ provenance: none verified', tone: 'warn' });
    else {
      lines.push({ text: `├ provenance SLSA v${p.slsaVersion}`, tone: 'ok' });
      lines.push({ text: `│ ├ builder    ${p.builder ?? '-'}` });
      lines.push({ text: `│ ├ repository ${p.sourceRepository ?? '-'}` });
      lines.push({ text: `│ ├ commit     ${p.sourceRevision ?? '-'}${p.sourceRef ? ` (${p.sourceRef})` : ''}` });
      lines.push({ text: `│ └ run        ${p.buildRun ?? '-'}` });
    }
    lines.push({ text: `└ traceability ${j.traceability.consistent ? '✔ sources agree' : '✘ SOURCES DISAGREE'}`, tone: j.traceability.consistent ? 'ok' : 'bad' });
    for (const k of ['repository', 'revision', 'run'] as const) {
      const f = j.traceability[k];
      lines.push({ text: `  ├ ${k.padEnd(10)} ${f.value ?? '-'}${f.consistent ? '' : '  ✘ disagreement'}`, tone: f.consistent ? undefined : 'bad' });
      for (const src of f.sources) lines.push({ text: `  │   ${src.from.padEnd(18)} ${src.value}`, tone: 'dim' });
    }
  }
  // A jump from Checks to a signature: put the cursor on its line.
  const jumpKey = `jump:chain:${ctx.imageIndex}`;
  const pending = store.get(jumpKey) as Extract<JumpTarget, { screen: 'chain' }> | undefined;
  let missing: string | null = null;
  if (pending) {
    store.delete(jumpKey);
    const at = pending.signature !== null ? sigLine.get(pending.signature) : 0;
    // A signature this image does not list: say so rather than put the cursor on another line.
    if (at === undefined) missing = `signature #${pending.signature} is not attached to ${image.name}: nothing to show`;
    else store.set(`chain:${ctx.imageIndex}:cursor`, { cursor: at, offset: Math.max(0, at - 2) });
  }
  useEffect(() => {
    if (missing) ctx.say(missing);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [missing]);
  return <LinesView id="chain" lines={lines} />;
}
