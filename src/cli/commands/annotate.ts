/**
 * `vouch annotate --session FILE [--image NAME] (--check ID | --path P |
 * --package PURL | --layer DIGEST | --signature DIGEST | --whole-image)
 * --disposition D [--severity S] --text TEXT`, and `--edit ID` / `--delete ID`.
 * Every change is saved at once; the line printed means it is on disk.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { addAnnotations, deleteAnnotation, editAnnotation, restoreAnnotation, isDisposition, resolveSubjects, type SubjectSpec } from '../../core/review/annotations.js';
import { SessionWriter } from '../../core/review/store.js';
import type { SessionImage } from '../../core/review/types.js';
import { VouchError } from '../../core/errors.js';
import { isSeverity, SEVERITIES } from '../../core/checks/types.js';
import { sanitizeLine as s, terminalSafeJson } from '../../core/util/sanitize.js';
import { missingReason } from '../../core/review/reason.js';
import { openPreferences, reviewerIdentity } from '../../tui/preferences.js';
import type { CliIo } from '../io.js';

interface AnnotateFlags {
  session: string;
  image?: string;
  check?: string;
  path?: string;
  package?: string;
  layer?: string;
  signature?: string;
  wholeImage?: boolean;
  disposition?: string;
  severity?: string;
  text?: string;
  author?: string;
  edit?: string;
  delete?: string;
  restore?: string;
  json?: boolean;
}

function usage(msg: string): never {
  throw new VouchError('USAGE', `annotate: ${msg}`);
}

function author(flags: AnnotateFlags): string {
  return flags.author ?? defaultAuthor();
}

/**
 * Who `vouch annotate` says wrote an annotation when --author is not given: $VOUCH_AUTHOR, else the
 * reviewer identity the workbench writes (preferences: "reviewer.name <reviewer.email>"), else the user
 * name. One person, one name: `vouch approve` accepts this author's annotations as the reviewer's own.
 */
export function defaultAuthor(): string {
  if (process.env.VOUCH_AUTHOR) return process.env.VOUCH_AUTHOR;
  try {
    const configured = reviewerIdentity(openPreferences());
    if (configured) return configured;
  } catch {
    // An unreadable preferences file: the user name, as without one.
  }
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function subjectSpec(flags: AnnotateFlags): SubjectSpec {
  const given: SubjectSpec[] = [];
  if (flags.check !== undefined) given.push({ kind: 'check', check: flags.check });
  if (flags.path !== undefined) given.push({ kind: 'path', path: flags.path });
  if (flags.package !== undefined) given.push({ kind: 'package', purl: flags.package });
  if (flags.layer !== undefined) given.push({ kind: 'layer', digest: flags.layer });
  if (flags.signature !== undefined) given.push({ kind: 'signature', digest: flags.signature });
  if (flags.wholeImage) given.push({ kind: 'image' });
  if (given.length !== 1) usage('give exactly one subject: --check, --path, --package, --layer, --signature or --whole-image');
  return given[0]!;
}

/** Whether a path exists in the pinned image (its file list comes from the cache after session init). */
async function pathExists(image: SessionImage, path: string): Promise<boolean> {
  const { loadDiffSide } = await import('../../core/diff/sides.js');
  const side = await loadDiffSide(image.pinned);
  return side.image?.files.has(path) ?? false;
}

export async function runAnnotate(flags: AnnotateFlags, io: CliIo): Promise<number> {
  if (flags.severity !== undefined && !isSeverity(flags.severity)) usage(`--severity: ${JSON.stringify(flags.severity)} is not one of ${SEVERITIES.join(', ')}`);
  if (flags.disposition !== undefined && !isDisposition(flags.disposition)) usage(`--disposition: ${JSON.stringify(flags.disposition)} is not one of must-fix, accepted-risk, false-positive, note`);
  if ([flags.edit, flags.delete, flags.restore].filter((x) => x !== undefined).length > 1) usage('give one of --edit, --delete or --restore');
  // An annotation's subject is fixed (history keeps states, not subjects): a new subject given with --edit would be dropped silently.
  const subjectFlags = ['check', 'path', 'package', 'layer', 'signature', 'wholeImage', 'image'] as const;
  const changing = flags.edit ?? flags.delete ?? flags.restore;
  const given = subjectFlags.filter((f) => flags[f] !== undefined).map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  if (changing && given.length) usage(`${given.join(', ')}: the subject of annotation ${changing} cannot change; delete it and annotate the new subject`);
  // An exception signed into an approval must say why (reason.ts): a blank rationale is refused before the lock.
  const blankWhy = flags.disposition !== undefined && flags.text !== undefined ? missingReason(flags.disposition, flags.text) : null;
  if (blankWhy) usage(`--text: ${blankWhy}`);
  const who = author(flags);
  const w = await SessionWriter.open(flags.session);
  try {
    if (flags.delete) {
      const a = await w.update((sess) => deleteAnnotation(sess, flags.delete!, who));
      if (flags.json) io.out(`${terminalSafeJson(a)}\n`);
      else io.out(`deleted ${a.id} (kept with its history)\n`);
      return 0;
    }
    if (flags.restore) {
      const a = await w.update((sess) => restoreAnnotation(sess, flags.restore!, who));
      if (flags.json) io.out(`${terminalSafeJson(a)}\n`);
      else io.out(`restored ${a.id}: ${a.disposition} (${a.history.length} earlier state(s) kept)\n`);
      return 0;
    }
    if (flags.edit) {
      if (flags.disposition === undefined && flags.text === undefined && flags.severity === undefined) usage('--edit: give --disposition, --severity or --text');
      const was = w.session.annotations.find((x) => x.id === flags.edit);
      const why = was && !was.deleted ? missingReason(flags.disposition ?? was.disposition, flags.text ?? was.text) : null;
      if (why) usage(`${flags.text !== undefined ? '--text' : '--disposition'}: ${why}${flags.text === undefined ? ' (give --text)' : ''}`);
      const a = await w.update((sess) =>
        editAnnotation(sess, flags.edit!, { ...(flags.disposition ? { disposition: flags.disposition as never } : {}), ...(flags.severity ? { severity: flags.severity } : {}), ...(flags.text !== undefined ? { text: flags.text } : {}) }, who),
      );
      if (flags.json) io.out(`${terminalSafeJson(a)}\n`);
      else io.out(`edited ${a.id}: ${a.disposition} (${a.history.length} earlier state(s) kept)\n`);
      return 0;
    }
    if (flags.disposition === undefined) usage('--disposition is required');
    if (flags.text === undefined) usage('--text is required');
    const why = missingReason(flags.disposition, flags.text);
    if (why) usage(`--text: ${why}`);
    const subjects = await resolveSubjects(w.session, flags.image, subjectSpec(flags), pathExists);
    const added = await w.update((sess) => addAnnotations(sess, subjects, { disposition: flags.disposition as never, severity: flags.severity ?? null, text: flags.text!, author: who }));
    if (flags.json) io.out(`${terminalSafeJson(added)}\n`);
    else for (const a of added) io.out(`saved ${a.id}: ${a.disposition} on ${s(a.subject.image)} ${s(JSON.stringify(a.subject))}\n`);
    return 0;
  } finally {
    await w.close();
  }
}

export function registerAnnotate(program: Command, io: CliIo): void {
  program
    .command('annotate')
    .description("record a reviewer's finding in a session (saved at once); --edit/--delete keep the history")
    .requiredOption('--session <file>', 'session file')
    .option('--image <key>', 'image key from the release (default: the only image)')
    .option('--check <id>', 'every failing result of this check on the image')
    .option('--path <path>', 'a file path in the image')
    .option('--package <purl>', 'a package in the image inventory')
    .option('--layer <digest>', 'a layer of the image')
    .option('--signature <digest>', 'a signature or attestation attached to the image')
    .option('--whole-image', 'the image itself')
    .option('--disposition <d>', 'must-fix, accepted-risk, false-positive or note')
    .option('--severity <s>', `one of ${SEVERITIES.join(', ')}`)
    .option('--text <text>', 'what the reviewer says')
    .option('--author <name>', 'who says it (default: $VOUCH_AUTHOR, else the reviewer name set by vouch config / the workbench, else the user name)')
    .option('--edit <id>', 'change an annotation (its earlier state is kept)')
    .option('--delete <id>', 'delete an annotation (kept, marked deleted)')
    .option('--restore <id>', 'undo the deletion of an annotation (history kept)')
    .option('--json', 'print JSON')
    .action(async (flags: AnnotateFlags) => io.setExitCode(await runAnnotate(flags, io)));
}
