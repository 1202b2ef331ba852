/**
 * 6 Checks: results grouped by review step, with subject and message; Enter
 * jumps to the subject (the file in Layers, the package in Packages, the
 * signature in Chain); `p` shows the passing checks too.
 */
import { Box } from 'ink';
import { useMemo } from 'react';
import { subjectKey } from '../../core/checks/run.js';
import { severityRank, STEPS, type CheckResult } from '../../core/checks/types.js';
import { Table, type TableRow } from '../components/table.js';
import { fit, S } from '../components/text.js';
import { useScreen, type JumpTarget } from '../context.js';
import { keyOf } from '../keys.js';
import { resultId, STEP_LABEL } from '../model.js';
import { checkSubject } from '../session-port.js';
import { decidingAnnotation } from '../session-map.js';
import { follow, moveCursor, useScreenState, type Cursor } from '../state.js';

type Row = { kind: 'step'; text: string } | { kind: 'result'; r: CheckResult };

/** Where Enter on a result goes (each subject kind has a screen); null when its subject is the image as a whole. */
export function jumpFor(r: CheckResult, layerIndexOf: (digest: string) => number | null): JumpTarget | null {
  const s = r.subject;
  if (s.path) return { screen: 'layers', path: s.path, layer: null };
  if (s.package) return { screen: 'packages', purl: s.package.purl };
  if (s.signature) return { screen: 'chain', signature: s.signature.index };
  if (s.env) return { screen: 'overview', env: s.env };
  if (s.layer?.digest) return { screen: 'layers', path: null, layer: layerIndexOf(s.layer.digest) };
  return null;
}

export function ChecksScreen(): React.JSX.Element {
  const ctx = useScreen();
  const { image, width, height, filter, annotations } = ctx;
  const [st, setSt] = useScreenState<{ c: Cursor; passes: boolean }>(`checks:${ctx.imageIndex}`, () => ({ c: { cursor: 0, offset: 0 }, passes: false }));
  const rows = useMemo(() => {
    const f = filter.toLowerCase();
    const out: Row[] = [];
    for (const step of STEPS) {
      const rs = image.checks
        .filter((r) => r.step === step && (st.passes || r.status !== 'pass'))
        .filter((r) => !f || `${r.id} ${subjectKey(r.subject)} ${r.message}`.toLowerCase().includes(f))
        .sort((a, b) => (a.status === b.status ? 0 : a.status === 'fail' ? -1 : b.status === 'fail' ? 1 : 0) || severityRank(b.severity) - severityRank(a.severity));
      if (!rs.length) continue;
      out.push({ kind: 'step', text: `${STEP_LABEL[step]} — ${rs.filter((r) => r.status === 'fail').length} failing` });
      for (const r of rs) out.push({ kind: 'result', r });
    }
    return out;
  }, [image.checks, st.passes, filter]);
  // What decides each result: an annotation on it, or on the exact file/package/layer it names (the core's rule).
  const dispositions = useMemo(() => {
    const m = new Map<string, string>();
    for (const r of image.checks) {
      const a = r.status === 'pass' ? undefined : decidingAnnotation(annotations, image.name, r);
      if (a) m.set(resultId(r), a.disposition);
    }
    return m;
  }, [annotations, image.name, image.checks]);

  const listH = height - 2;
  const c = follow(st.c, rows.length, listH - 1);
  const sel = rows[c.cursor];
  const layerIndexOf = (d: string): number | null => image.layers.find((l) => l.digest === d)?.index ?? null;

  ctx.handle({
    onAction(a) {
      const next = moveCursor(c, a, rows.length, listH - 1);
      if (next) {
        setSt((o) => ({ ...o, c: next }));
        return true;
      }
      if (a === 'togglePasses') {
        setSt((o) => ({ c: { cursor: 0, offset: 0 }, passes: !o.passes }));
        return true;
      }
      if (a === 'open' && sel?.kind === 'result') {
        const t = jumpFor(sel.r, layerIndexOf);
        if (t) ctx.jump(t);
        else ctx.say(`${sel.r.id} is about the image as a whole: nothing to jump to`);
        return true;
      }
      return false;
    },
    subject: () => (sel?.kind === 'result' ? { subject: checkSubject(image.name, sel.r), label: `${sel.r.id} ${subjectKey(sel.r.subject)}` } : null),
  });

  const row = (i: number): TableRow => {
    const r = rows[i]!;
    if (r.kind === 'step') return { cells: ['', '', '', r.text, ''], tone: 'header' };
    const x = r.r;
    const disp = dispositions.get(resultId(x));
    const status = x.status === 'fail' ? 'FAIL' : x.status === 'excepted' ? 'exc' : 'pass';
    const subject = x.subject.path ?? x.subject.package?.purl ?? (x.subject.env ? `env ${x.subject.env}` : null) ?? (x.subject.signature ? `signature #${x.subject.signature.index}` : null) ?? (x.subject.layer ? `layer ${x.subject.layer.index ?? '-'}` : 'image');
    return { cells: [status, x.severity, x.id, `${subject}${disp ? ` [${disp}]` : ''}`, x.message], tone: x.status === 'fail' ? 'bad' : x.status === 'excepted' ? 'warn' : 'dim' };
  };
  const narrow = width < 100;
  const fails = image.checks.filter((r) => r.status === 'fail').length;
  return (
    <Box flexDirection="column" height={height}>
      <Table
        // The message is also under the table for the selected row: it goes before the check and its subject.
        columns={[{ header: 'STAT', width: 4, priority: 2 }, { header: 'SEVERITY', width: 8, priority: 4 }, { header: 'CHECK', width: 10, priority: 1 }, { header: 'SUBJECT', width: narrow ? 22 : 40, priority: 1 }, { header: 'MESSAGE', min: 12, priority: 3 }]}
        width={width}
        height={listH}
        count={rows.length}
        offset={c.offset}
        cursor={c.cursor}
        row={row}
        empty={filter ? `no result matches "${filter}"` : `no failing results (${keyOf(ctx.keys, 'togglePasses')} shows the passing checks)`}
      />
      <S tone="dim">{fit(`${fails} failing of ${image.checks.length} results · ${keyOf(ctx.keys, 'open')} jumps to the subject · ${keyOf(ctx.keys, 'togglePasses')} ${st.passes ? 'hides' : 'shows'} passes`, width)}</S>
      <S>{fit(sel?.kind === 'result' ? sel.r.message : '', width)}</S>
    </Box>
  );
}
