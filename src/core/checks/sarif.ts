/**
 * SARIF 2.1.0 (OASIS errata 01 schema) for GitHub code scanning and other
 * SARIF consumers: one run, one rule per check (help text and markdown, the
 * docs anchor as helpUri when the docs URL is known, `security-severity` for
 * GitHub's severity), one result per failing or excepted result (excepted ones
 * carry an accepted external suppression; passes are not results in SARIF).
 *
 * Locations: a file in the image is an artifact location relative to a base
 * id per image (`IMAGE0` = `oci://<name>@<digest>/`), so the path shows as
 * the file; image-level results (config, history, trust) point at the image
 * name itself, with a logical location naming the env var, package, layer or
 * signature.
 */
import { createHash } from 'node:crypto';
import type { CheckRegistry } from './registry.js';
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
  /** The images checked (label = name@digest), in result order. */
  images: ReadonlyArray<{ label: string }>;
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

function encodePath(p: string): string {
  return p
    .split('/')
    .filter((s) => s !== '')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

/** `oci://<name>@<digest>/`: an absolute URI ending in a slash (SARIF §3.14.14). */
function imageBaseUri(label: string): string {
  const at = label.lastIndexOf('@');
  const name = label.slice(0, at);
  const digest = label.slice(at + 1);
  const path = encodePath(name.replace(/^[a-z-]+:(?!\/\/)/, ''));
  return `oci://${name.startsWith('/') || /^[a-z-]+:\//.test(name) ? '/' : ''}${path}@${digest}/`;
}

function fingerprint(r: CheckResult): string {
  // Stable across rebuilds: the image name without its digest, so an alert follows the image.
  const name = r.subject.image.slice(0, r.subject.image.lastIndexOf('@'));
  return createHash('sha256').update(`${r.id}\0${name}\0${subjectKey(r.subject)}`).digest('hex');
}

export function toSarif(set: CheckResultSet, registry: CheckRegistry, opts: SarifOptions): object {
  const checks = registry.all();
  const index = new Map(checks.map((c, i) => [c.id, i]));
  const base = new Map(opts.images.map((im, i) => [im.label, `IMAGE${i}`]));
  const originalUriBaseIds: Record<string, object> = {};
  for (const [label, id] of base) originalUriBaseIds[id] = { uri: imageBaseUri(label), description: { text: label } };
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
      const physical = s.path
        ? { artifactLocation: { uri: encodePath(s.path), uriBaseId: base.get(s.image) ?? 'IMAGE0' } }
        : { artifactLocation: { uri: encodePath(imageName.replace(/^[a-z-]+:(?!\/\/)/, '').replace(/^[a-z]+:\/\//, '')) || 'image' } };
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
        message: { text: `${r.message} [${s.image}]` },
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
