/**
 * The check context: built once per image from data already in hand (the
 * cached analysis and layer walks, the catalogue, the chain report, the
 * baseline, scans and content facts). Nothing here reads a layer.
 */
import { mergeLayers, type MergedNode } from '../layers/filesystem.js';
import type { CheckContext, CheckInputs, LayerSubject } from './types.js';
import { redactLine as redactHistoryLine } from '../util/redact.js';
import { sanitizeLine } from '../util/sanitize.js';

export function buildContext(inputs: CheckInputs): CheckContext {
  const merged = inputs.merged ?? mergeLayers(inputs.walks);
  const files: Array<readonly [string, MergedNode]> = [...merged.paths];
  files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const a = inputs.analysis;
  const redactLine = inputs.showSecrets ? (s: string): string => sanitizeLine(s) : redactHistoryLine;
  const layers: LayerSubject[] = a.layers.map((l) => ({ index: l.index, digest: l.digest, createdBy: l.createdBy === null ? null : redactLine(l.createdBy) }));
  // History entries in order; non-empty ones map onto the layers in order.
  const history: LayerSubject[] = [];
  let li = 0;
  for (const h of a.history) {
    const createdBy = h.createdBy === null ? null : redactLine(h.createdBy);
    if (h.emptyLayer) history.push({ index: null, digest: null, createdBy });
    else {
      const l = a.layers[li];
      history.push({ index: l ? li : null, digest: l?.digest ?? null, createdBy });
      li++;
    }
  }
  // Images without history (or a history that does not line up) still name their layers.
  if (a.history.length === 0) history.push(...layers);
  return {
    image: inputs.image,
    analysis: a,
    walks: inputs.walks,
    merged,
    files,
    inventory: inputs.inventory ?? null,
    chain: inputs.chain ?? null,
    baseline: inputs.baseline ?? null,
    sbom: inputs.sbom ?? null,
    scans: inputs.scans ?? [],
    attached: inputs.attached ?? null,
    facts: inputs.facts ?? {},
    policy: inputs.policy,
    now: inputs.now ?? new Date(),
    layer: (i: number): LayerSubject => layers[i] ?? { index: i, digest: null, createdBy: null },
    history,
  };
}
