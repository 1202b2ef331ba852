/**
 * PackageInventory → SPDX 2.3 JSON (an object; JSON.stringify it). Valid
 * against the SPDX 2.3 JSON schema (tested with ajv over every fixture
 * converted). Each package: a stable SPDXID from its purl and locations, the
 * purl as a PACKAGE-MANAGER externalRef, licences as one licenseDeclared
 * expression (names that are not SPDX expressions become LicenseRef-… with
 * hasExtractedLicensingInfos), locations in sourceInfo (for people) and in
 * `vouch:location=` annotations (for the reader). The distro is a package
 * whose primaryPackagePurpose is OPERATING_SYSTEM. When several licences had
 * to be AND-joined (or names became LicenseRefs), a `vouch:licenses=`
 * annotation keeps the list as found, so reading back is lossless. The document DESCRIBES
 * every package. The inventory's warnings (what it may be missing) and notes are
 * lines of creationInfo.comment, under a first line that says the inventory is incomplete.
 */
import parseSpdx from 'spdx-expression-parse';
import type { Package, PackageInventory } from '../types.js';
import { VOUCH_LICENSES_ANNOTATION, VOUCH_LOCATION_ANNOTATION } from './spdx.js';
import { documentWarnings, imagePurl, isoSeconds, shortHash, uuidOf, type SbomWriteMeta } from './writer-common.js';

type Json = Record<string, unknown>;

const idSafe = (s: string): string => s.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'x';

export function toSpdx(inv: PackageInventory, meta: SbomWriteMeta = {}): Json {
  const created = isoSeconds(meta.timestamp);
  const tool = `Tool: vouch-${meta.toolVersion ?? 'unknown'}`;
  const name = meta.name ?? 'vouch-sbom';
  const uuid = uuidOf(meta);
  const ids = new Set<string>(['SPDXRef-DOCUMENT']);
  const uniqueId = (base: string): string => {
    let id = base;
    for (let n = 2; ids.has(id); n++) id = `${base}-${n}`;
    ids.add(id);
    return id;
  };
  const extracted = new Map<string, Json>();
  const packages: Json[] = [];
  for (const p of inv.packages) {
    const id = uniqueId(`SPDXRef-Package-${idSafe(p.type)}-${idSafe(p.name)}-${shortHash(`${p.purl}\0${p.name}\0${p.version}\0${JSON.stringify(p.locations)}`)}`);
    packages.push(spdxPackage(p, id, declaredLicense(p.licenses, extracted), created, tool));
  }
  if (inv.distro?.id) {
    const os: Json = {
      name: inv.distro.id,
      SPDXID: uniqueId(`SPDXRef-OperatingSystem-${idSafe(inv.distro.id)}`),
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      primaryPackagePurpose: 'OPERATING_SYSTEM',
    };
    if (inv.distro.versionId) os.versionInfo = inv.distro.versionId;
    if (inv.distro.prettyName) os.description = inv.distro.prettyName;
    packages.push(os);
  }
  // The image, when known: the document DESCRIBES it and it CONTAINS every package (as syft writes it).
  let root: Json | null = null;
  if (meta.image) {
    const im = meta.image;
    root = {
      name: im.repository ?? im.name,
      SPDXID: uniqueId(`SPDXRef-DocumentRoot-Image-${idSafe(im.name)}`),
      versionInfo: im.digest,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      ...(/^sha256:[0-9a-f]{64}$/.test(im.digest) ? { checksums: [{ algorithm: 'SHA256', checksumValue: im.digest.slice(7) }] } : {}),
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: imagePurl(im) }],
      primaryPackagePurpose: 'CONTAINER',
    };
  }
  const doc: Json = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name,
    documentNamespace: meta.namespace ?? `https://vouch.invalid/spdxdocs/${idSafe(name)}-${uuid}`,
    creationInfo: { created, creators: [tool], ...creationComment(inv, meta) },
    packages: root ? [root, ...packages] : packages,
    relationships: root
      ? [
          { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: root.SPDXID },
          ...packages.map((p) => ({ spdxElementId: root.SPDXID, relationshipType: 'CONTAINS', relatedSpdxElement: p.SPDXID })),
        ]
      : packages.map((p) => ({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: p.SPDXID })),
  };
  if (extracted.size) doc.hasExtractedLicensingInfos = [...extracted.values()];
  return doc;
}

/** SPDX 2.3 has no property list: one line per warning, each marked, in the creation comment. */
function creationComment(inv: PackageInventory, meta: SbomWriteMeta): { comment?: string } {
  const { warnings, notes } = documentWarnings(inv, meta);
  if (!warnings.length && !notes.length) return {};
  const lines = [
    ...(warnings.length ? [`${SPDX_INCOMPLETE_LINE} (${warnings.length} warning${warnings.length === 1 ? '' : 's'}):`, ...warnings.map((w) => `${SPDX_WARNING_PREFIX}${w}`)] : []),
    ...notes.map((n) => `${SPDX_NOTE_PREFIX}${n}`),
  ];
  return { comment: lines.join('\n') };
}

/** First line of creationInfo.comment when the inventory has warnings. */
export const SPDX_INCOMPLETE_LINE = 'vouch: this inventory may be incomplete';
export const SPDX_WARNING_PREFIX = 'vouch:warning: ';
export const SPDX_NOTE_PREFIX = 'vouch:note: ';

function spdxPackage(p: Package, id: string, license: string, created: string, tool: string): Json {
  const out: Json = {
    name: p.name || 'unknown',
    SPDXID: id,
    ...(p.version ? { versionInfo: p.version } : {}),
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: license,
    copyrightText: 'NOASSERTION',
  };
  const annotation = (comment: string): Json => ({ annotationDate: created, annotationType: 'OTHER', annotator: tool, comment });
  const annotations: Json[] = [];
  if (p.locations.length) {
    out.sourceInfo = `acquired package info from vouch: ${p.locations.map((l) => l.path).join(', ')}`;
    for (const l of p.locations) annotations.push(annotation(`${VOUCH_LOCATION_ANNOTATION}${JSON.stringify({ path: l.path, layer: l.layer })}`));
  }
  if (p.licenses.length && !(p.licenses.length === 1 && p.licenses[0] === license)) {
    annotations.push(annotation(`${VOUCH_LICENSES_ANNOTATION}${JSON.stringify(p.licenses)}`));
  }
  if (annotations.length) out.annotations = annotations;
  if (p.purl) out.externalRefs = [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }];
  return out;
}

type SpdxNode = ReturnType<typeof parseSpdx>;

function licenseRefs(node: SpdxNode, out: string[]): void {
  if ('license' in node) {
    if (node.license.startsWith('LicenseRef-')) out.push(node.license);
  } else {
    licenseRefs(node.left, out);
    licenseRefs(node.right, out);
  }
}

/** One SPDX expression for all licences found (AND-joined), NOASSERTION when none. */
export function declaredLicense(licenses: string[], extracted: Map<string, Json>): string {
  const parts: string[] = [];
  for (const l of licenses) {
    let tree: SpdxNode | null = null;
    try {
      tree = parseSpdx(l);
    } catch {
      tree = null;
    }
    if (tree) {
      const refs: string[] = [];
      licenseRefs(tree, refs);
      for (const r of refs) {
        if (!extracted.has(r)) {
          extracted.set(r, { licenseId: r, name: r, extractedText: 'NOASSERTION', comment: 'referenced by the source SBOM; its text was not carried over' });
        }
      }
      parts.push(/\s/.test(l.trim()) && licenses.length > 1 ? `(${l.trim()})` : l.trim());
    } else {
      const id = `LicenseRef-${idSafe(l)}-${shortHash(l).slice(0, 8)}`;
      if (!extracted.has(id)) extracted.set(id, { licenseId: id, name: l, extractedText: l });
      parts.push(id);
    }
  }
  return parts.length ? parts.join(' AND ') : 'NOASSERTION';
}
