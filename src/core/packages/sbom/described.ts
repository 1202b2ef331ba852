/**
 * The image an SBOM says it describes, by digest: CycloneDX
 * `metadata.component` (a `pkg:oci/…@sha256%3A…` purl, a SHA-256 hash, or a
 * `sha256:…` version as syft writes it) and SPDX's described CONTAINER package
 * (purl external ref or SHA256 checksum). Null when the document names no
 * image digest: then only the package comparison can tell.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const HEX = /^[0-9a-f]{64}$/;

function fromPurl(purl: unknown): string | null {
  if (typeof purl !== 'string' || !purl.startsWith('pkg:oci/')) return null;
  const m = /@sha256(?::|%3[aA])([0-9a-fA-F]{64})(?:[?#]|$)/.exec(purl);
  return m ? `sha256:${m[1]!.toLowerCase()}` : null;
}

function fromDigestText(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const m = /^sha256:([0-9a-f]{64})$/.exec(v.trim().toLowerCase());
  return m ? `sha256:${m[1]}` : null;
}

function cycloneDx(doc: Obj): string | null {
  const c = isObj(doc.metadata) ? doc.metadata.component : undefined;
  if (!isObj(c)) return null;
  const p = fromPurl(c.purl);
  if (p) return p;
  for (const h of arr(c.hashes)) {
    if (isObj(h) && typeof h.alg === 'string' && h.alg.toUpperCase().replace('-', '') === 'SHA256' && typeof h.content === 'string' && HEX.test(h.content.toLowerCase())) return `sha256:${h.content.toLowerCase()}`;
  }
  return fromDigestText(c.version);
}

function spdx(doc: Obj): string | null {
  const described = new Set(arr(doc.documentDescribes).filter((x): x is string => typeof x === 'string'));
  for (const r of arr(doc.relationships)) {
    if (isObj(r) && r.relationshipType === 'DESCRIBES' && r.spdxElementId === 'SPDXRef-DOCUMENT' && typeof r.relatedSpdxElement === 'string') described.add(r.relatedSpdxElement);
  }
  for (const p of arr(doc.packages)) {
    if (!isObj(p) || typeof p.SPDXID !== 'string') continue;
    if (!described.has(p.SPDXID) && p.primaryPackagePurpose !== 'CONTAINER') continue;
    for (const r of arr(p.externalRefs)) {
      const d = isObj(r) && r.referenceType === 'purl' ? fromPurl(r.referenceLocator) : null;
      if (d) return d;
    }
    for (const c of arr(p.checksums)) {
      if (isObj(c) && c.algorithm === 'SHA256' && typeof c.checksumValue === 'string' && HEX.test(c.checksumValue.toLowerCase())) return `sha256:${c.checksumValue.toLowerCase()}`;
    }
  }
  return null;
}

/** The image digest the document names as its subject, or null. */
export function describedImageDigest(format: string, doc: unknown): string | null {
  if (!isObj(doc)) return null;
  if (format === 'cyclonedx-json') return cycloneDx(doc);
  if (format === 'spdx-json') return spdx(doc);
  return null;
}
