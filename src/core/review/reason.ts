/**
 * An exception needs a reason: an accepted-risk or false-positive annotation
 * lets a failing result through an approval, so its text (why the risk is
 * acceptable, why the finding is wrong) may not be empty. must-fix and note
 * may be. No imports: the workbench's bundle uses it too.
 */
export const NEEDS_REASON: ReadonlySet<string> = new Set(['accepted-risk', 'false-positive']);

/** The refusal for `disposition` with `text`, or null when it may be saved. */
export function missingReason(disposition: string, text: string): string | null {
  if (!NEEDS_REASON.has(disposition) || text.trim() !== '') return null;
  return `${disposition} needs a reason: an exception lets a failing result through the approval, so say why`;
}
