/**
 * The analysis's own warnings as check results: what the layer walk refused or
 * could not read is part of the review, not a footnote of `inspect`. Entries a
 * hostile archive carries (paths escaping the root, NUL bytes, hard links out
 * of the root, malformed whiteouts, duplicates) are high: docker and the
 * reviewer's tools may unpack them differently from what vouch analysed.
 */
import type { Check, CheckContext, Finding } from '../types.js';

/** Warnings that say the tar tried something no honest builder writes. */
const HOSTILE = /escapes the root|climbs above the root|NUL in path|entry rejected|duplicate entry|malformed whiteout|root entry is not a directory|root directory entry has mode|unsupported typeflag|AUFS metadata/;

interface LayerWarning {
  layer: number | null;
  text: string;
}

function analysisWarnings(ctx: CheckContext): LayerWarning[] {
  const a = ctx.analysis;
  // Hand-built analyses (tests, other producers) may leave the lists out.
  return [...(a.warnings ?? []).map((text) => ({ layer: null, text })), ...a.layers.flatMap((l) => (l.warnings ?? []).map((text) => ({ layer: l.index, text })))];
}

function findings(ctx: CheckContext, hostile: boolean): Finding[] {
  return analysisWarnings(ctx)
    .filter((w) => HOSTILE.test(w.text) === hostile)
    .map((w) => ({
      subject: w.layer === null ? {} : { layer: ctx.layer(w.layer) },
      message: w.layer === null ? w.text : `layer ${w.layer}: ${w.text}`,
    }));
}

export const hostileArchive: Check = {
  id: 'VCH-AN-001',
  title: 'Hostile or ambiguous layer archive entries',
  step: 'least-privilege',
  defaultSeverity: 'high',
  help: {
    what: 'Tar entries the layer walk rejected or had to choose between: paths that escape the root (`../../etc/evil`), NUL bytes in names, hard links pointing outside the root, malformed whiteouts, duplicate entries for one path (the last one wins), unsupported entry types, AUFS metadata. One result per warning, naming the layer.',
    why: 'No normal image builder writes these. They are how archive-extraction attacks (path traversal, CVE-2019-14271-style link tricks) and analysis evasion work: a file hidden behind a duplicate entry or a rejected path may be what another tool, or the runtime, unpacks.',
    fix: 'Rebuild the image from a clean Dockerfile with a standard builder (BuildKit, buildah, ko, jib) and find out where the layer came from; never approve an image with such entries.',
  },
  run: (ctx) => findings(ctx, true),
};

export const analysisIncomplete: Check = {
  id: 'VCH-AN-002',
  title: 'Analysis warnings',
  step: 'least-privilege',
  defaultSeverity: 'medium',
  help: {
    what: 'Every other warning of the image analysis: file contents not read (over the size limit), a history that does not line up with the layers, a tar without its end marker, warnings cut for number. One result per warning.',
    why: 'Each one means part of the image was not analysed as the other checks assume: a finding could be missing.',
    fix: 'Read the warning; rebuild the image so that its history matches its layers and its archives are complete, or review the named files by hand.',
  },
  run: (ctx) => findings(ctx, false),
};

export const ANALYSIS_CHECKS: Check[] = [hostileArchive, analysisIncomplete];
