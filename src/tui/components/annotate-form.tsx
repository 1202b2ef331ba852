/**
 * The annotation form: disposition (↑/↓, Enter), then text (Enter saves);
 * Tab cycles the severity on either step; Esc cancels. Each key is applied to
 * the form's state as it arrives (held in a ref, not read from the last
 * render), and keys typed while the form was mounting are handed over by the
 * App (`typedAhead`), so a burst lands in order and Enter saves exactly what
 * was typed. accepted-risk and false-positive need a text (an exception needs
 * a reason). Everything drawn goes through S.
 */
import { Box, useInput, useStdin } from 'ink';
import { useEffect, useRef, useState } from 'react';
import { SEVERITIES } from '../../core/checks/types.js';
import { missingReason } from '../../core/review/reason.js';
import { DISPOSITIONS, type Annotation, type AnnotationFields, type Disposition } from '../session-port.js';
import { typedKey, typedKeyOfRaw, type TypedKey } from '../typed-keys.js';
import { S } from './text.js';

export interface AnnotateFormProps {
  label: string;
  existing?: Annotation;
  onSubmit(fields: AnnotationFields): void;
  onCancel(): void;
  /** Raw keys typed between the key that opened the form and the form listening (taken once). */
  typedAhead?: () => string[];
}

type Sev = AnnotationFields['severity'];
const SEVERITY_CYCLE: ReadonlyArray<Sev> = [undefined, ...(SEVERITIES as readonly NonNullable<Sev>[])];

interface FormState {
  step: 'disposition' | 'text' | 'done';
  focus: number;
  disposition: Disposition | null;
  severity: Sev;
  text: string;
  error: string | null;
}

export function AnnotateForm({ label, existing, onSubmit, onCancel, typedAhead }: AnnotateFormProps): React.JSX.Element {
  const { isRawModeSupported } = useStdin();
  // The current disposition first (focused), as before: Enter keeps it.
  const options: Disposition[] = existing ? [existing.disposition, ...DISPOSITIONS.filter((d) => d !== existing.disposition)] : [...DISPOSITIONS];
  const st = useRef<FormState>({ step: 'disposition', focus: 0, disposition: null, severity: existing?.severity, text: existing?.text ?? '', error: null });
  const [, render] = useState(0);

  const apply = (k: TypedKey): void => {
    const s = st.current;
    if (s.step === 'done') return;
    if (k.kind === 'escape') {
      st.current = { ...s, step: 'done' };
      onCancel();
      return;
    }
    let next: FormState = s;
    if (k.kind === 'tab' || k.kind === 'backtab') {
      const i = SEVERITY_CYCLE.indexOf(s.severity);
      const n = SEVERITY_CYCLE.length;
      next = { ...s, severity: SEVERITY_CYCLE[(i + (k.kind === 'tab' ? 1 : n - 1)) % n] };
    } else if (s.step === 'disposition') {
      if (k.kind === 'up') next = { ...s, focus: Math.max(0, s.focus - 1) };
      else if (k.kind === 'down') next = { ...s, focus: Math.min(options.length - 1, s.focus + 1) };
      else if (k.kind === 'enter') next = { ...s, step: 'text', disposition: options[s.focus]! };
    } else if (k.kind === 'text') next = { ...s, text: s.text + k.text, error: null };
    else if (k.kind === 'backspace') next = { ...s, text: [...s.text].slice(0, -1).join(''), error: null };
    else if (k.kind === 'clear') next = { ...s, text: '', error: null };
    else if (k.kind === 'enter') {
      const why = missingReason(s.disposition!, s.text);
      if (why) next = { ...s, error: why };
      else {
        st.current = { ...s, step: 'done' };
        render((n) => n + 1);
        onSubmit({ disposition: s.disposition!, text: s.text, ...(s.severity ? { severity: s.severity } : {}) });
        return;
      }
    }
    if (next !== s) {
      st.current = next;
      render((n) => n + 1);
    }
  };

  useInput((input, key) => apply(typedKey(input, key)), { isActive: isRawModeSupported === true });
  // Declared after useInput: its listener is on by the time this runs, so nothing typed falls between.
  useEffect(() => {
    for (const raw of typedAhead?.() ?? []) apply(typedKeyOfRaw(raw));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const s = st.current;
  const severity = `severity: ${s.severity ?? 'none'} (Tab changes)`;
  return (
    <Box flexDirection="column">
      <S tone="header" bold>
        {existing ? 'Edit annotation' : 'Annotate'}
      </S>
      <S>{`subject: ${label}`}</S>
      {existing ? <S tone="dim">{`written by ${existing.author}: saving records you as its author; this version and its author stay in its history`}</S> : null}
      {s.step === 'disposition' ? (
        <Box flexDirection="column">
          <S tone="dim">{severity}</S>
          <S tone="dim">{'disposition (↑/↓, Enter):'}</S>
          {options.map((d, i) => (
            <S key={d} {...(i === s.focus ? { inverse: true } : {})}>
              {`${i === s.focus ? '❯' : ' '} ${d}`}
            </S>
          ))}
        </Box>
      ) : (
        <Box flexDirection="column">
          <S>{`disposition: ${s.disposition}`}</S>
          <S tone="dim">{severity}</S>
          <S tone="dim">{'text (Enter saves, Esc cancels):'}</S>
          <Box>
            <S>{`> ${s.text}`}</S>
            <S inverse>{' '}</S>
            {s.text ? null : <S tone="dim">{' why…'}</S>}
          </Box>
          {s.error ? <S tone="bad">{s.error}</S> : null}
        </Box>
      )}
    </Box>
  );
}
