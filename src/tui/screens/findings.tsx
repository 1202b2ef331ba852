/**
 * 7 Findings: the automated findings (failing results of every image) and the
 * reviewer's annotations, with dispositions. `e` edits, `c` re-classifies
 * (next disposition), `x` deletes (the session keeps the history) — both ask
 * y/N first, since one key would otherwise drop a blocker —, `a` adds;
 * Enter on an automated finding jumps to its subject, on an annotation edits it.
 */
import { Box } from 'ink';
import { useMemo } from 'react';
import type { CheckResult } from '../../core/checks/types.js';
import { subjectKey } from '../../core/checks/run.js';
import { Table, type TableRow } from '../components/table.js';
import { fit, S } from '../components/text.js';
import { useScreen } from '../context.js';
import { jumpFor } from './checks.js';
import { keyOf } from '../keys.js';
import { decidingAnnotation } from '../session-map.js';
import { checkSubject, DISPOSITIONS, subjectLabel, type Annotation } from '../session-port.js';
import { resultId } from '../model.js';
import { follow, moveCursor, useScreenState, type Cursor } from '../state.js';

/** A result decided by an annotation on its file, package or layer (not on the result itself) says which. */
const VIA: Partial<Record<string, string>> = { path: 'file', package: 'pkg', layer: 'layer' };

/** `under`: one more annotation on the automated finding just above (the row above shows the one that decides it). */
type Row = { kind: 'auto'; image: string; r: CheckResult; a: Annotation | undefined } | { kind: 'manual'; a: Annotation; under?: boolean };

export function FindingsScreen(): React.JSX.Element {
  const ctx = useScreen();
  const { model, width, height, filter, annotations, port } = ctx;
  const [c0, setC] = useScreenState<Cursor>('findings:cursor', () => ({ cursor: 0, offset: 0 }));
  const live = annotations.filter((a) => !a.deleted);
  const rows = useMemo(() => {
    const out: Row[] = [];
    // The annotation that decides each result: on the result, or on the exact file/package/layer it names (the core's rule).
    // Every other annotation on the result itself follows it, each a row of its own (e / c / x reach it);
    // annotations on a file, package or layer are listed on their own further down.
    for (const im of model.images)
      for (const r of im.checks) {
        if (r.status === 'pass') continue;
        const a = decidingAnnotation(live, im.name, r);
        out.push({ kind: 'auto', image: im.name, r, a });
        const id = resultId(r);
        for (const other of live) if (other !== a && other.subject.kind === 'check' && other.subject.image === im.name && other.subject.value === id) out.push({ kind: 'manual', a: other, under: true });
      }
    for (const a of live) if (a.subject.kind !== 'check') out.push({ kind: 'manual', a });
    const f = filter.toLowerCase();
    if (!f) return out;
    return out.filter((x) => (x.kind === 'auto' ? `${x.image} ${x.r.id} ${subjectKey(x.r.subject)} ${x.r.message} ${x.a?.disposition ?? ''} ${x.a?.text ?? ''} ${x.a?.author ?? ''}` : `${x.a.subject.image} ${subjectLabel(x.a.subject)} ${x.a.disposition} ${x.a.text} ${x.a.author}`).toLowerCase().includes(f));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [model, annotations, filter]);
  const listH = height - 3;
  const c = follow(c0, rows.length, listH - 1);
  const sel = rows[c.cursor];
  const annotationOf = (x: Row | undefined): Annotation | undefined => (x?.kind === 'manual' ? x.a : x?.a);

  ctx.handle({
    onAction(a) {
      const next = moveCursor(c, a, rows.length, listH - 1);
      if (next) {
        setC(next);
        return true;
      }
      const ann = annotationOf(sel);
      if (a === 'open' && sel?.kind === 'auto') {
        // As on Checks: Enter shows the subject (on the image it belongs to); Esc comes back.
        const at = model.images.findIndex((im) => im.name === sel.image);
        const im = model.images[at]!;
        const t = jumpFor(sel.r, (d) => im.layers.find((l) => l.digest === d)?.index ?? null);
        if (t) ctx.jump(t, at);
        else ctx.say(`${sel.r.id} is about the image as a whole: nothing to jump to`);
        return true;
      }
      if (a === 'edit' || (a === 'open' && ann)) {
        if (!ann) ctx.say(`no annotation to edit here: ${keyOf(ctx.keys, 'annotate')} annotates`);
        else ctx.openAnnotate(ann.subject, subjectLabel(ann.subject), ann);
        return true;
      }
      if (a === 'reclassify') {
        if (!ann) ctx.say(`no annotation to re-classify here: ${keyOf(ctx.keys, 'annotate')} annotates`);
        else {
          const next = DISPOSITIONS[(DISPOSITIONS.indexOf(ann.disposition) + 1) % DISPOSITIONS.length]!;
          // Whose it is, before and after: the edit records the reviewer as its author, the earlier state (and author) stays in its history.
          const was = `${ann.disposition} by ${ann.author}`;
          ctx.confirm(`change ${was} → ${next}`, () => void port.edit(ann.id, { disposition: next }).then(() => ctx.refresh().then(() => ctx.say(`re-classified as ${next} (was ${was}, kept in its history)`)), (e: Error) => ctx.say(`not saved: ${e.message}`)));
        }
        return true;
      }
      if (a === 'delete') {
        if (!ann) ctx.say('no annotation to delete here');
        else
          ctx.confirm(`delete annotation ${ann.disposition} on ${subjectLabel(ann.subject)}`, () =>
            void port.delete(ann.id).then(() => ctx.refresh().then(() => ctx.say('annotation deleted (kept in the history)')), (e: Error) => ctx.say(`not saved: ${e.message}`)),
          );
        return true;
      }
      return false;
    },
    subject: () => {
      if (!sel) return null;
      if (sel.kind === 'auto') return { subject: checkSubject(sel.image, sel.r), label: `${sel.r.id} ${subjectKey(sel.r.subject)}` };
      return { subject: sel.a.subject, label: subjectLabel(sel.a.subject) };
    },
  });

  const row = (i: number): TableRow => {
    const x = rows[i]!;
    if (x.kind === 'auto') {
      return {
        cells: [x.image, x.r.severity, x.a ? `${x.a.disposition}${x.a.subject.kind === 'check' ? '' : ` (${VIA[x.a.subject.kind] ?? x.a.subject.kind})`}` : 'open', `${x.r.id} ${x.r.subject.path ?? x.r.subject.package?.purl ?? x.r.subject.env ?? ''}`, x.a ? `${x.r.message} — ${x.a.text ? `${x.a.text} ` : ''}(${x.a.author})` : x.r.message],
        tone: x.a ? (x.a.disposition === 'must-fix' ? 'bad' : 'dim') : x.r.status === 'excepted' ? 'warn' : 'bad',
      };
    }
    return { cells: [x.a.subject.image, x.a.severity ?? '-', `${x.under ? '↳ ' : ''}${x.a.disposition}`, subjectLabel(x.a.subject), `${x.a.text} (${x.a.author})`], tone: x.a.disposition === 'must-fix' ? 'bad' : 'accent' };
  };
  const deleted = annotations.filter((a) => a.deleted).length;
  const narrow = width < 100;
  return (
    <Box flexDirection="column" height={height}>
      <Table
        columns={[{ header: 'IMAGE', width: 8, priority: 3 }, { header: 'SEVERITY', width: 8, priority: 4 }, { header: 'DISPOSITION', width: narrow ? 14 : 22, priority: 1 }, { header: 'FINDING', width: narrow ? 20 : 36, priority: 1 }, { header: 'MESSAGE / NOTE', min: 12, priority: 2 }]}
        width={width}
        height={listH}
        count={rows.length}
        offset={c.offset}
        cursor={c.cursor}
        row={row}
        empty={filter ? `no finding matches "${filter}"` : 'no findings'}
      />
      <S tone="dim">{fit(`${rows.length} findings · ${live.length} annotations · ${deleted} deleted (history kept) · ${keyOf(ctx.keys, 'edit')} edit  ${keyOf(ctx.keys, 'reclassify')} re-classify  ${keyOf(ctx.keys, 'delete')} delete  ${keyOf(ctx.keys, 'annotate')} annotate`, width)}</S>
      <S>{fit(sel ? (sel.kind === 'auto' ? `${sel.r.message}${sel.a ? ` — ${sel.a.disposition}${sel.a.subject.kind === 'check' ? '' : ` (annotation on the ${sel.a.subject.kind})`}: ${sel.a.text} (by ${sel.a.author})` : ''}` : `${sel.a.disposition}: ${sel.a.text} (by ${sel.a.author})`) : '', width)}</S>
      <S tone="dim">{fit(historyLine(annotationOf(sel)), width)}</S>
    </Box>
  );
}

/** The earlier states of an annotation, then who wrote them (an edit makes the editor the author; the history keeps whose it was). */
function historyLine(a: Annotation | undefined): string {
  if (!a?.history.length) return '';
  const authors = [...new Set(a.history.map((h) => h.author))];
  return `history: ${a.history.map((h) => `${h.deleted ? 'deleted' : h.disposition} "${h.text}"`).join(' → ')} · by ${authors.join(', ')}`;
}
