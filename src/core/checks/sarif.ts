/**
 * SARIF 2.1.0 (OASIS errata 01 schema) for GitHub code scanning and other
 * SARIF consumers: one run, one rule per check (help text and markdown, the
 * docs anchor as helpUri when the docs URL is known, `security-severity` for
 * GitHub's severity), one result per failing or excepted result (excepted ones
 * carry an accepted external suppression; passes are not results in SARIF).
 *
 * Locations, built from the parsed reference: a file in the image is an
 * artifact location relative to a base id per image (`IMAGE0` =
 * `oci://<registry>/<repository>@<digest>/`, or `oci:///<path>@<digest>/` for a
 * layout or archive), so the path shows as the file; image-level results
 * (config, history, trust) point at the repository path (or the layout's file
 * name) as a relative path, with a logical location naming the env var,
 * package, layer or signature. GitHub code scanning takes only relative paths.
 */
import { createHash } from 'node:crypto';
import { basename, isAbsolute, resolve } from 'node:path';
import { parseDockerReference, parseReference } from '../ref/parse.js';
import type { DockerReference, ImageReference } from '../ref/types.js';
import type { CheckRegistry } from './registry.js';
import { encodePathBytes, escapePathBytes } from '../util/path-bytes.js';
import { subjectKey } from './run.js';
import type { Check, CheckResult, CheckResultSet, Severity } from './types.js';

export const SARIF_SCHEMA_URI = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
/** GitHub maps security-severity > 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low. */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

export interface SarifOptions {
  toolVersion: string;
  /** Base URL of the repository's docs (`<base>/docs/checks.md#vch-…` becomes each rule's helpUri); omitted when unknown. */
  docsBaseUrl?: string | null;
  /** The images checked (label = name@digest; reference = the resolved reference, which locations are built from), in result order. */
  images: ReadonlyArray<{ label: string; reference?: string }>;
}

export function anchorOf(id: string): string {
  return id.toLowerCase();
}

function pascal(title: string): string {
  return title
    .replace(/[^A-Za-z0-9 ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

export function helpMarkdown(c: Check): string {
  return [
    `**${c.title}** (${c.id}, ${c.step}, default severity ${c.defaultSeverity}${c.cis ? `, CIS Docker Benchmark ${c.cis}` : ''})`,
    `**What it finds.** ${c.help.what}`,
    `**Why it matters.** ${c.help.why}`,
    `**How to fix.** ${c.help.fix}`,
    `See docs/checks.md#${anchorOf(c.id)}.`,
  ].join('\n\n');
}

export function helpText(c: Check): string {
  return `${c.title}. What: ${c.help.what} Why: ${c.help.why} Fix: ${c.help.fix}${c.cis ? ` (CIS Docker Benchmark ${c.cis})` : ''}`.replace(/`/g, '');
}

/**
 * Percent-encode one path segment's bytes, keeping RFC 3986 unreserved chars
 * and `@` `:` (a digest is one readable segment). The segment's original bytes
 * are encoded (encodePathBytes), not its UTF-16: a file name that is not UTF-8
 * (`tool\xff`) becomes `tool%FF` — encodeURIComponent throws on the lone
 * surrogate such a name holds, and one hostile name would break the upload.
 */
function encodeSegment(seg: string): string {
  let out = '';
  for (const b of encodePathBytes(seg)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~@:]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A relative URI reference for a path (never absolute, never a scheme): GitHub
 * code scanning takes only repository-relative paths, and a colon in the first
 * segment would read as a scheme (RFC 3986 §4.2), so it is escaped there.
 */
export function relativeUri(p: string): string {
  const segs = p.split('/').filter((x) => x !== '' && x !== '.' && x !== '..').map(encodeSegment);
  if (segs.length) segs[0] = segs[0]!.replace(/:/g, '%3A');
  return segs.join('/');
}

/** Where an image's files live as a URI, and the relative path that names the image itself. */
export interface ImageLocation {
  /** `oci://<registry>/<repository>@<digest>/`, or `oci:///<absolute path>@<digest>/` for a layout or archive: absolute, ending in a slash (SARIF §3.14.14). */
  base: string;
  /** For image-level results: `<repository>` (registry images), else the layout or archive's file name. */
  path: string;
}

/** The image's location from its parsed reference (the label only when there is no reference). */
export function imageLocation(label: string, reference?: string): ImageLocation {
  const at = label.lastIndexOf('@');
  const digest = at >= 0 ? label.slice(at + 1) : '';
  const name = at >= 0 ? label.slice(0, at) : label;
  const pin = digest ? `@${digest}` : '';
  const segs = (x: string): string => x.split('/').filter((y) => y !== '').map(encodeSegment).join('/');
  let r: ImageReference | null = null;
  try {
    r = reference ? parseReference(reference) : null;
  } catch {
    r = null;
  }
  let docker: DockerReference | null = r?.transport === 'docker' ? r.ref : null;
  if (r?.transport === 'docker-daemon') {
    try {
      docker = parseDockerReference(r.name.replace(/@sha256:[0-9a-f]+$/, ''));
    } catch {
      docker = null;
    }
  }
  if (docker) return { base: `oci://${encodeSegment(docker.registry)}/${segs(docker.repository)}${pin}/`, path: relativeUri(docker.repository) || 'image' };
  if (r && (r.transport === 'oci' || r.transport === 'oci-archive' || r.transport === 'docker-archive')) {
    const abs = isAbsolute(r.path) ? r.path : resolve(r.path);
    return { base: `oci:///${segs(abs)}${pin}/`, path: relativeUri(basename(abs)) || 'image' };
  }
  // No usable reference: the name as a path, never as a scheme.
  return { base: `oci:///${segs(name)}${pin}/`, path: relativeUri(name) || 'image' };
}

function fingerprint(r: CheckResult): string {
  // Stable across rebuilds: the image name without its digest, so an alert follows the image.
  const name = r.subject.image.slice(0, r.subject.image.lastIndexOf('@'));
  // Bytes, not UTF-8 of the string: two names that are not UTF-8 would both hash as U+FFFD.
  return createHash('sha256').update(encodePathBytes(`${r.id}\0${name}\0${subjectKey(r.subject)}`)).digest('hex');
}

export function toSarif(set: CheckResultSet, registry: CheckRegistry, opts: SarifOptions): object {
  const checks = registry.all();
  const index = new Map(checks.map((c, i) => [c.id, i]));
  const base = new Map(opts.images.map((im, i) => [im.label, `IMAGE${i}`]));
  const where = new Map(opts.images.map((im) => [im.label, imageLocation(im.label, im.reference)]));
  const originalUriBaseIds: Record<string, object> = {};
  for (const [label, id] of base) originalUriBaseIds[id] = { uri: where.get(label)!.base, description: { text: label } };
  const rules = checks.map((c) => ({
    id: c.id,
    name: pascal(c.title),
    shortDescription: { text: c.title },
    fullDescription: { text: c.help.what },
    help: { text: helpText(c), markdown: helpMarkdown(c) },
    ...(opts.docsBaseUrl ? { helpUri: `${opts.docsBaseUrl.replace(/\/+$/, '')}/docs/checks.md#${anchorOf(c.id)}` } : {}),
    defaultConfiguration: { level: LEVEL[c.defaultSeverity], enabled: true },
    properties: {
      tags: ['security', 'container', c.step, ...(c.cis ? [`CIS-Docker-${c.cis}`] : [])],
      precision: 'high',
      'problem.severity': c.defaultSeverity === 'info' ? 'recommendation' : LEVEL[c.defaultSeverity],
      'security-severity': SECURITY_SEVERITY[c.defaultSeverity],
      ...(c.cis ? { cis: c.cis } : {}),
    },
  }));
  const results = set.results
    .filter((r) => r.status !== 'pass')
    .map((r) => {
      const s = r.subject;
      const imageName = s.image.slice(0, s.image.lastIndexOf('@'));
      const loc = where.get(s.image) ?? imageLocation(s.image);
      const physical = s.path && base.has(s.image)
        ? { artifactLocation: { uri: relativeUri(s.path) || '.', uriBaseId: base.get(s.image)! } }
        : { artifactLocation: { uri: loc.path } };
      const logical: Array<{ name: string; kind: string; fullyQualifiedName: string }> = [];
      if (s.env) logical.push({ name: s.env, kind: 'variable', fullyQualifiedName: `${imageName}/config/Env/${s.env}` });
      if (s.package) logical.push({ name: s.package.name, kind: 'package', fullyQualifiedName: s.package.purl || `${s.package.type}/${s.package.name}@${s.package.version}` });
      if (s.layer) logical.push({ name: s.layer.digest ?? `history: ${s.layer.createdBy ?? ''}`, kind: 'layer', fullyQualifiedName: `${imageName}/${s.layer.digest ?? 'history'}` });
      if (s.signature) logical.push({ name: s.signature.keyId ?? s.signature.identity ?? `${s.signature.kind}#${s.signature.index}`, kind: 'signature', fullyQualifiedName: `${imageName}/signature/${s.signature.keyId ?? s.signature.identity ?? `${s.signature.kind}#${s.signature.index}`}` });
      const ruleIndex = index.get(r.id);
      return {
        ruleId: r.id,
        ...(ruleIndex !== undefined ? { ruleIndex } : {}),
        kind: 'fail',
        level: LEVEL[r.severity],
        // Display text (`\xNN`); the exact bytes are in properties.subject (pathBytes, see terminalSafeJson).
        message: { text: escapePathBytes(`${r.message} [${s.image}]`) },
        locations: [{ physicalLocation: physical, ...(logical.length ? { logicalLocations: logical } : {}) }],
        partialFingerprints: { 'vouchSubject/v1': fingerprint(r) },
        ...(r.status === 'excepted' && r.exception
          ? { suppressions: [{ kind: 'external', status: 'accepted', justification: `${r.exception.reason} (expires ${r.exception.expires})` }] }
          : {}),
        properties: {
          severity: r.severity,
          'security-severity': SECURITY_SEVERITY[r.severity],
          step: r.step,
          status: r.status,
          subject: s,
          ...(r.exception ? { exception: r.exception } : {}),
        },
      };
    });
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'vouch',
            version: opts.toolVersion,
            semanticVersion: opts.toolVersion,
            ...(opts.docsBaseUrl ? { informationUri: opts.docsBaseUrl } : {}),
            rules,
          },
        },
        originalUriBaseIds,
        results,
        columnKind: 'unicodeCodePoints',
        properties: { policyDigest: set.policy.digest, images: opts.images.map((i) => i.label) },
      },
    ],
  };
}
