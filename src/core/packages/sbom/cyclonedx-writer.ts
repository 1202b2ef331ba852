/**
 * PackageInventory → CycloneDX 1.6 JSON (an object; JSON.stringify it). Valid
 * against the official 1.6 schema (the tests run @cyclonedx/cyclonedx-library's
 * strict validator over every fixture converted). Licences become SPDX ids
 * when the schema knows the id, an expression when there is exactly one
 * compound expression, else names; locations become `vouch:location:N:*`
 * properties; the distro an `operating-system` component. The inventory's
 * warnings (a foreign layer not read, a truncated database...) are
 * `vouch:warning` properties of the metadata, and then a composition says the
 * image's inventory is `incomplete`; notes are `vouch:note` properties.
 */
import { isSupportedSpdxId } from '@cyclonedx/cyclonedx-library/SPDX';
import parseSpdx from 'spdx-expression-parse';
import { parsePurl } from '../purl.js';
import type { Package, PackageInventory } from '../types.js';
import { VOUCH_NOTE_PROPERTY, VOUCH_WARNING_PROPERTY, documentWarnings, imagePurl, isoSeconds, uuidOf, type SbomWriteMeta } from './writer-common.js';

type Json = Record<string, unknown>;

export function toCycloneDx(inv: PackageInventory, meta: SbomWriteMeta = {}): Json {
  const refs = new Set<string>();
  const uniqueRef = (base: string): string => {
    let ref = base;
    for (let n = 2; refs.has(ref); n++) ref = `${base}#${n}`;
    refs.add(ref);
    return ref;
  };
  const components: Json[] = inv.packages.map((p) => component(p, uniqueRef(p.purl || `${p.type}:${p.name}@${p.version}`)));
  if (inv.distro?.id) {
    const os: Json = { 'bom-ref': uniqueRef(`os:${inv.distro.id}@${inv.distro.versionId ?? ''}`), type: 'operating-system', name: inv.distro.id };
    if (inv.distro.versionId) os.version = inv.distro.versionId;
    if (inv.distro.prettyName) os.description = inv.distro.prettyName;
    components.push(os);
  }
  const metadata: Json = {
    timestamp: isoSeconds(meta.timestamp),
    tools: { components: [{ type: 'application', name: 'vouch', ...(meta.toolVersion ? { version: meta.toolVersion } : {}) }] },
  };
  if (meta.image) {
    // The image itself, as syft names it: repository and manifest digest, with its pkg:oci purl.
    const im = meta.image;
    const purl = imagePurl(im);
    metadata.component = {
      'bom-ref': uniqueRef(purl),
      type: 'container',
      name: im.repository ?? im.name,
      version: im.digest,
      purl,
      ...(/^sha256:[0-9a-f]{64}$/.test(im.digest) ? { hashes: [{ alg: 'SHA-256', content: im.digest.slice(7) }] } : {}),
    };
  } else if (meta.name) {
    metadata.component = { 'bom-ref': uniqueRef(`vouch:subject:${meta.name}`), type: 'container', name: meta.name, ...(meta.version ? { version: meta.version } : {}) };
  }
  const { warnings, notes } = documentWarnings(inv, meta);
  const props = [...warnings.map((value) => ({ name: VOUCH_WARNING_PROPERTY, value })), ...notes.map((value) => ({ name: VOUCH_NOTE_PROPERTY, value }))];
  if (props.length) metadata.properties = props;
  const bom: Json = {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${uuidOf(meta)}`,
    version: 1,
    metadata,
    components,
  };
  // A warning means vouch could not read everything (it says what): the inventory must not pass for complete.
  // Without warnings nothing is claimed, since vouch catalogues only the ecosystems it knows.
  if (warnings.length) {
    const subject = (metadata.component as Json | undefined)?.['bom-ref'];
    bom.compositions = [{ aggregate: 'incomplete', ...(typeof subject === 'string' ? { assemblies: [subject] } : {}) }];
  }
  return bom;
}

function component(p: Package, ref: string): Json {
  const c: Json = { 'bom-ref': ref, type: 'library' };
  const purl = parsePurl(p.purl);
  let name = p.name || purl?.name || 'unknown';
  if (purl && (purl.type === 'maven' || purl.type === 'npm') && purl.namespace) {
    c.group = purl.namespace;
    if (purl.type === 'npm' && name.startsWith(`${purl.namespace}/`)) name = name.slice(purl.namespace.length + 1);
  }
  c.name = name;
  if (p.version) c.version = p.version;
  const licenses = cdxLicenses(p.licenses);
  if (licenses.length) c.licenses = licenses;
  if (purl) c.purl = p.purl;
  const props: Json[] = [];
  p.locations.forEach((l, i) => {
    props.push({ name: `vouch:location:${i}:path`, value: l.path });
    if (l.layer) props.push({ name: `vouch:location:${i}:layer`, value: l.layer });
  });
  if (props.length) c.properties = props;
  return c;
}

function isExpression(s: string): boolean {
  try {
    parseSpdx(s);
    return true;
  } catch {
    return false;
  }
}

/** CycloneDX 1.6: a list of {license: {id|name}}, or exactly one {expression}. */
export function cdxLicenses(licenses: string[]): Json[] {
  if (licenses.length === 1 && !isSupportedSpdxId(licenses[0]) && isExpression(licenses[0]!)) return [{ expression: licenses[0] }];
  return licenses.map((l) => (isSupportedSpdxId(l) ? { license: { id: l } } : { license: { name: l } }));
}
