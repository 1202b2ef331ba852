/**
 * 8 Approve: what will be signed (release, image digests, policy), the
 * decision (Select) and rationale (TextInput), the blockers of each decision,
 * then SessionPort.approve, which signs, writes and verifies the record with
 * the same core calls as `vouch approve` / `vouch verify` (store-port.ts).
 */
import { Box } from 'ink';
import { PasswordInput, Select, TextInput } from '@inkjs/ui';
import { useEffect, useRef, useState } from 'react';
import { fit, S, shortDigest, wrapWords } from '../components/text.js';
import { useScreen } from '../context.js';
import { DECISIONS, type ApproveResult, type Blocker, type Decision } from '../session-port.js';
import { useScreenState } from '../state.js';

type Step =
  | { kind: 'decision' }
  | { kind: 'rationale'; decision: Decision }
  | { kind: 'confirm'; decision: Decision; rationale: string }
  /** The signing key is encrypted and no passphrase is known: a masked input; `error` after a wrong one, `attempt` clears the input. */
  | { kind: 'passphrase'; decision: Decision; rationale: string; key: string; error: string | null; attempt: number }
  /**
   * The decision relies on exceptions written by others: as many as fit are shown; `y` accepts exactly
   * those (their annotation ids, with the ones accepted on earlier pages in `accepted`) and asks again:
   * the next page of the others, or the signature once none is left.
   */
  | { kind: 'accept'; decision: Decision; rationale: string; passphrase?: string; authors: string[]; exceptions: Blocker[]; accepted: string[] }
  | { kind: 'done'; result: ApproveResult };

export function ApproveScreen(): React.JSX.Element {
  const ctx = useScreen();
  const { model, width, height, port, annotations } = ctx;
  const [step, setStep] = useScreenState<Step>('approve:step', () => ({ kind: 'decision' }));
  const [blockers, setBlockers] = useState<Record<Decision, Blocker[]> | null>(null);
  const [busy, setBusy] = useState(false);
  // Text typed between the decision's Enter and the rationale input listening: the Select reports the choice
  // from an effect, and the input it mounts subscribes in its own. Kept here (typeAhead) and seeded into it.
  const ahead = useRef<{ text: string; submit: boolean } | null>(null);
  const [, reseed] = useState(0);
  // The ids of the exceptions the accept step shows in this render: what `y` accepts, and nothing else.
  const shownIds = useRef<string[]>([]);

  useEffect(() => {
    let gone = false;
    void Promise.all(DECISIONS.map((d) => port.blockers(d))).then((bs) => {
      if (!gone) setBlockers(Object.fromEntries(DECISIONS.map((d, i) => [d, bs[i]!])) as Record<Decision, Blocker[]>);
    });
    return () => {
      gone = true;
    };
  }, [port, annotations]);

  const typing = step.kind === 'rationale' || step.kind === 'passphrase';
  useEffect(() => {
    ctx.setCapture(typing);
    return () => ctx.setCapture(false);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [typing]);

  // Signs through the port; a key that needs its passphrase turns into the masked input (again after a wrong one).
  const sign = (decision: Decision, rationale: string, passphrase?: string, acceptAnnotationIds?: string[]): void => {
    setBusy(true);
    void port.approve({ decision, rationale, ...(passphrase !== undefined ? { passphrase } : {}), ...(acceptAnnotationIds ? { acceptAnnotationIds } : {}) }).then(async (result) => {
      setBusy(false);
      if (result.passphrase) {
        const attempt = step.kind === 'passphrase' ? step.attempt + 1 : 0;
        setStep({ kind: 'passphrase', decision, rationale, key: result.passphrase.key, error: result.passphrase.wrong ? result.message : null, attempt });
        return;
      }
      // Accepted only once read: the port lists those not accepted yet (never shown), the next page of them.
      if (result.foreign) {
        setStep({ kind: 'accept', decision, rationale, ...(passphrase !== undefined ? { passphrase } : {}), authors: result.foreign.authors, exceptions: result.blockers, accepted: acceptAnnotationIds ?? [] });
        return;
      }
      setStep({ kind: 'done', result });
      await ctx.refresh();
    });
  };

  ctx.handle({
    typeAhead(input, key) {
      // A deliberate key, not Enter: an Enter typed ahead of the refusal must not accept what it lists.
      if (step.kind === 'accept') {
        if (input === 'y' && !busy && shownIds.current.length) sign(step.decision, step.rationale, step.passphrase, [...step.accepted, ...shownIds.current]);
        return input === 'y';
      }
      const t = ahead.current;
      if (!t) {
        // The decision's Enter starts the type-ahead as it arrives: the App may act on that Enter a render
        // later (keys of one chunk are taken one per render), after the text behind it has come in.
        if (key.return && step.kind === 'decision') ahead.current = { text: '', submit: false };
        return false;
      }
      if ((step.kind !== 'decision' && step.kind !== 'rationale') || t.submit || key.escape) {
        ahead.current = null;
        return false;
      }
      if (key.return) t.submit = true;
      else if (key.backspace || key.delete) t.text = [...t.text].slice(0, -1).join('');
      else if (!key.ctrl && !key.meta && !key.tab && !/[\u0000-\u001f\u007f]/.test(input)) t.text += input;
      return true;
    },
    onAction(a) {
      if (a === 'open' && step.kind === 'decision') {
        ahead.current ??= { text: '', submit: false }; // the Select takes this Enter; what follows is the rationale
        return true;
      }
      if (a === 'back' && step.kind !== 'decision') {
        setStep({ kind: 'decision' });
        return true;
      }
      if (typing) return true; // the TextInput has the keyboard
      if (a === 'open' && step.kind === 'confirm' && !busy) {
        sign(step.decision, step.rationale);
        return true;
      }
      if (a === 'open' && step.kind === 'done') {
        setStep({ kind: 'decision' });
        return true;
      }
      return a === 'open';
    },
    subject: () => null,
  });

  // What the rationale input was last mounted with: kept once the type-ahead is handed over, so that the
  // input is not mounted anew (losing what was typed into it since) when the type-ahead ends.
  const seedRef = useRef('');
  if (step.kind !== 'rationale') seedRef.current = '';
  const seeded = step.kind === 'rationale' ? (ahead.current?.text ?? seedRef.current) : '';
  const lines: React.JSX.Element[] = [];
  const head = (t: string): void => void lines.push(<S key={`h${lines.length}`} tone="header" bold>{fit(t, width)}</S>);
  const line = (t: string, tone?: 'ok' | 'bad' | 'warn' | 'dim'): void => void lines.push(<S key={`l${lines.length}`} tone={tone}>{fit(t, width)}</S>);
  head(`What will be signed: ${model.release.name}${model.release.version ? ` ${model.release.version}` : ''}`);
  for (const im of model.images) {
    line(`  ${im.name.padEnd(10)} ${im.digest}`);
    if (im.caveat) line(`  ${''.padEnd(10)} ⚠ digest synthesised by vouch: no registry digest (Overview says more)`, 'warn');
  }
  // Before signing: the whole sentence, as `vouch check` prints it, for each image whose digest vouch synthesised.
  if (step.kind === 'confirm') for (const im of model.images) if (im.caveat) for (const [i, l] of wrapWords(`note: ${im.name}: ${im.caveat}`, width - 4).entries()) line(`${i ? '    ' : '  '}${l}`, 'warn');
  line(`  policy ${shortDigest(model.policyDigest)} · ${annotations.filter((a) => !a.deleted).length} annotations · ${model.images.reduce((n, im) => n + im.checks.filter((r) => r.status !== 'pass').length, 0)} automated findings`, 'dim');
  head('Blockers');
  if (!blockers) line('  computing…', 'dim');
  else for (const d of DECISIONS) line(`  ${d.padEnd(25)} ${blockers[d].length ? `${blockers[d].length} blocker${blockers[d].length === 1 ? '' : 's'}` : 'allowed'}`, blockers[d].length ? 'bad' : 'ok');
  const chosen = step.kind === 'rationale' || step.kind === 'confirm' ? step.decision : null;
  const shownBlockers = chosen && blockers ? blockers[chosen] : (blockers?.approved ?? []);
  const room = Math.max(1, height - lines.length - 8);
  for (const b of shownBlockers.slice(0, room)) line(`  ✘ ${b.message}`, 'bad');
  if (shownBlockers.length > room) line(`  … ${shownBlockers.length - room} more`, 'bad');
  const page = step.kind === 'accept' ? step.exceptions.slice(0, Math.max(1, height - lines.length - 4)) : [];
  shownIds.current = page.flatMap((b) => (b.id === undefined ? [] : [b.id]));

  return (
    <Box flexDirection="column" height={height}>
      {lines}
      {step.kind === 'decision' ? (
        <Box flexDirection="column">
          <S tone="header" bold>
            {'Decision (↑/↓, Enter)'}
          </S>
          <Select visibleOptionCount={3} options={DECISIONS.map((d) => ({ label: d, value: d }))} onChange={(v) => setStep({ kind: 'rationale', decision: v as Decision })} />
        </Box>
      ) : step.kind === 'rationale' ? (
        <Box flexDirection="column">
          <S>{`Decision: ${step.decision}`}</S>
          <S tone="dim">{'Rationale (Enter continues, Esc goes back):'}</S>
          <TextInput key={`rationale:${seeded.length}`} defaultValue={seeded} placeholder="why this decision…" onSubmit={(rationale) => setStep({ kind: 'confirm', decision: step.decision, rationale })} />
          <WhenListening
            key={`listening:${seeded.length}`}
            run={() => {
              const t = ahead.current;
              if (!t) return;
              // More typed since this render: seed again (the input is mounted anew with all of it).
              if (t.text !== seeded) return reseed((n) => n + 1);
              seedRef.current = t.text;
              ahead.current = null;
              if (t.submit) setStep({ kind: 'confirm', decision: step.decision, rationale: t.text });
            }}
          />
        </Box>
      ) : step.kind === 'passphrase' ? (
        <Box flexDirection="column">
          <S>{fit(`Decision: ${step.decision} — ${step.rationale || '(no rationale)'}`, width)}</S>
          {step.error ? <S tone="bad">{fit(`✘ ${step.error}`, width)}</S> : null}
          <S tone="dim">{fit(`Passphrase of ${step.key} (Enter signs, Esc goes back):`, width)}</S>
          {busy ? <S tone="dim">{'signing…'}</S> : <PasswordInput key={step.attempt} placeholder="passphrase" onSubmit={(p) => sign(step.decision, step.rationale, p)} />}
        </Box>
      ) : step.kind === 'accept' ? (
        <Box flexDirection="column">
          <S tone="warn" bold>
            {fit(`This ${step.decision} relies on ${step.exceptions.length} ${step.accepted.length ? 'more ' : ''}exception(s) written by others; the session file is not trusted input:`, width)}
          </S>
          {page.map((b, i) => (
            <S key={`x${i}`} tone="warn">
              {fit(`  ${b.message}`, width)}
            </S>
          ))}
          {step.exceptions.length > page.length ? <S tone="warn">{fit(`  … ${step.exceptions.length - page.length} more, shown after these (y does not accept them)`, width)}</S> : null}
          <S tone="dim">
            {busy
              ? 'signing…'
              : fit(`y accepts the ${page.length} exception(s) shown (by ${[...new Set(page.map((b) => JSON.stringify(b.author ?? '?')))].join(', ')}) and ${step.exceptions.length > page.length ? 'shows the next' : 'signs'}; Esc goes back`, width)}
          </S>
        </Box>
      ) : step.kind === 'confirm' ? (
        <Box flexDirection="column">
          <S>{`Decision: ${step.decision} — ${step.rationale || '(no rationale)'}`}</S>
          <S tone={blockers?.[step.decision].length ? 'bad' : 'ok'}>{busy ? 'signing…' : blockers?.[step.decision].length ? 'Blocked: Enter asks anyway (it will be refused), Esc changes the decision' : 'Enter signs and verifies the record, Esc changes the decision'}</S>
        </Box>
      ) : (
        <Box flexDirection="column">
          <S tone={step.result.ok ? 'ok' : 'bad'} bold>
            {`${step.result.ok ? '✔' : '✘'} ${step.result.message}`}
          </S>
          {step.result.path ? <S>{`written: ${step.result.path}`}</S> : null}
          <S tone="dim">{'Enter starts over'}</S>
        </Box>
      )}
    </Box>
  );
}

/** Runs `run` once its siblings before it have run their mount effects (an input subscribes to keys in one). */
function WhenListening({ run }: { run: () => void }): null {
  useEffect(() => {
    run();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return null;
}
