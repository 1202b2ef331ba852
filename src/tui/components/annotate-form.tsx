/** The annotation form: disposition (Select), then text (TextInput); Esc cancels. Inputs from @inkjs/ui. */
import { Box, useInput, useStdin } from 'ink';
import { Select, TextInput } from '@inkjs/ui';
import { useState } from 'react';
import { DISPOSITIONS, type Annotation, type AnnotationFields, type Disposition } from '../session-port.js';
import { S } from './text.js';
import { sanitizeLine } from '../../core/util/sanitize.js';

export interface AnnotateFormProps {
  label: string;
  existing?: Annotation;
  onSubmit(fields: AnnotationFields): void;
  onCancel(): void;
}

export function AnnotateForm({ label, existing, onSubmit, onCancel }: AnnotateFormProps): React.JSX.Element {
  const { isRawModeSupported } = useStdin();
  const [disposition, setDisposition] = useState<Disposition | null>(null);
  useInput((_i, key) => {
    if (key.escape) onCancel();
  }, { isActive: isRawModeSupported === true });
  return (
    <Box flexDirection="column">
      <S tone="header" bold>
        {existing ? 'Edit annotation' : 'Annotate'}
      </S>
      <S>{`subject: ${label}`}</S>
      {disposition === null ? (
        <Box flexDirection="column">
          <S tone="dim">{'disposition (↑/↓, Enter):'}</S>
          <Select
            // The current disposition first (focused): Select reports a change only, so a default value could not be re-chosen.
            options={(existing ? [existing.disposition, ...DISPOSITIONS.filter((d) => d !== existing.disposition)] : DISPOSITIONS).map((d) => ({ label: d, value: d }))}
            onChange={(v) => setDisposition(v as Disposition)}
          />
        </Box>
      ) : (
        <Box flexDirection="column">
          <S>{`disposition: ${disposition}`}</S>
          <S tone="dim">{'text (Enter saves, Esc cancels):'}</S>
          {/* The input draws its value itself, not through S: an annotation text read back from a session file is sanitised first. */}
          <TextInput defaultValue={sanitizeLine(existing?.text ?? '')} placeholder="why…" onSubmit={(text) => onSubmit({ disposition, text })} />
        </Box>
      )}
    </Box>
  );
}
