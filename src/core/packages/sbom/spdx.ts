/**
 * SPDX 2.2/2.3 JSON reader. Document-level structure is checked as the SPDX
 * JSON schema has it (creationInfo.creators are strings, packages an array);
 * package records need `name` and `SPDXID`, and `filesAnalyzed` must be a
 * boolean. A malformed document (syft's `bad` vectors: creators as objects,
 * `packageName` for `name`, "false" as a string) is rejected with an error
 * naming the file and the record; a few bad packages among good ones are
 * warnings and the rest still comes out.
 *
 * Purls come from externalRefs (PACKAGE-MANAGER / purl); licences are
 * licenseDeclared then licenseConcluded (NOASSERTION and NONE dropped);
 * locations from vouch's own location annotations, else syft's sourceInfo
 * ("acquired package info from …: /path"); `hasFiles` and CONTAINS
 * relationships are checked and counted (metadata `spdx:files`). A package
 * whose primaryPackagePurpose is OPERATING_SYSTEM gives the distro.
 */
import type { Distro, Package, PackageLocation } from '../types.js';
import { ReadContext, arr, distroFromPurls, finishPackages, isObj, isNoAssertion, q, str, toPackage, typeName, type Obj } from './common.js';
import type { ReaderResult } from './cyclonedx.js';

export const VOUCH_LOCATION_ANNOTATION = 'vouch:location=';
export const VOUCH_LICENSES_ANNOTATION = 'vouch:licenses=';

export function readSpdx(doc: Obj, ctx: ReadContext): ReaderResult {
  checkDocument(doc, ctx);
  if (doc.packages !== undefined && !Array.isArray(doc.packages)) ctx.fail(`"packages" is ${typeName(doc.packages)}, expected an array`);
  const packages = arr(doc.packages);

  // Files by SPDXID, for hasFiles.
  const fileIds = new Set<string>();
  for (const f of arr(doc.files)) if (isObj(f) && typeof f.SPDXID === 'string') fileIds.add(f.SPDXID);
  const contains = new Map<string, number>();
  for (const r of arr(doc.relationships)) {
    if (!isObj(r) || r.relationshipType !== 'CONTAINS') continue;
    const from = str(r.spdxElementId);
    const to = str(r.relatedSpdxElement);
    if (from && to && fileIds.has(to)) contains.set(from, (contains.get(from) ?? 0) + 1);
  }

  // LicenseRef-… → the name its hasExtractedLicensingInfos entry gives it.
  const refNames = new Map<string, string>();
  for (const e of arr(doc.hasExtractedLicensingInfos)) {
    if (isObj(e) && typeof e.licenseId === 'string' && typeof e.name === 'string' && !isNoAssertion(e.name) && e.name !== e.licenseId) {
      refNames.set(e.licenseId, e.name);
    }
  }

  const items: Array<{ pkg: Package; record: string }> = [];
  const ids = new Set<string>();
  let distro: Distro | null = null;
  let bad = 0;
  let firstProblem = '';
  packages.forEach((p, i) => {
    const problem = (record: string, msg: string): void => {
      bad++;
      firstProblem ||= `${record}: ${msg}`;
      ctx.warn(`${record}: ${msg}; skipped`);
    };
    if (!isObj(p)) return problem(`packages[${i}]`, `${typeName(p)}, expected a package object`);
    const id = str(p.SPDXID);
    const record = id ? `package ${id}` : `packages[${i}]`;
    if (!id) return problem(record, 'no "SPDXID"');
    const name = str(p.name);
    if (name === null) {
      const hint = typeof p.packageName === 'string' ? ' (found "packageName", which is not an SPDX JSON field)' : '';
      return problem(record, `no "name"${hint}`);
    }
    if (p.filesAnalyzed !== undefined && typeof p.filesAnalyzed !== 'boolean') {
      return problem(record, `"filesAnalyzed" is ${typeName(p.filesAnalyzed)} ${q(p.filesAnalyzed)}, expected true or false`);
    }
    if (ids.has(id)) {
      ctx.warn(`${record}: duplicate SPDXID; deduplicated (kept the first)`);
      return;
    }
    ids.add(id);
    const version = typeof p.versionInfo === 'string' ? p.versionInfo : '';
    if (p.primaryPackagePurpose === 'OPERATING_SYSTEM' || p.primaryPackagePurpose === 'OPERATING-SYSTEM') {
      distro ??= { id: name, versionId: version || null };
      return;
    }
    let purl: string | null = null;
    for (const r of arr(p.externalRefs)) {
      if (isObj(r) && r.referenceType === 'purl' && typeof r.referenceLocator === 'string') {
        purl = r.referenceLocator;
        break;
      }
    }
    // The image the document describes (syft's and vouch's CONTAINER root with a pkg:oci purl) is not a package in it.
    if (p.primaryPackagePurpose === 'CONTAINER' && purl?.startsWith('pkg:oci/')) return;
    const lic: string[] = vouchLicenses(p) ?? [];
    if (!lic.length) {
      for (const k of ['licenseDeclared', 'licenseConcluded']) {
        const l = str(p[k]);
        if (l && !isNoAssertion(l)) lic.push(refNames.get(l) ?? l);
      }
    }
    const metadata: Record<string, string> = { 'spdx:SPDXID': id };
    const hasFiles = arr(p.hasFiles).filter((f): f is string => typeof f === 'string');
    const fileCount = new Set(hasFiles).size + (contains.get(id) ?? 0);
    if (fileCount) metadata['spdx:files'] = String(fileCount);
    const missing = hasFiles.filter((f) => !fileIds.has(f));
    if (missing.length) ctx.warn(`${record}: hasFiles names ${missing.length} file(s) not in "files" (first: ${q(missing[0])})`);
    const purpose = str(p.primaryPackagePurpose);
    if (purpose) metadata['spdx:primaryPackagePurpose'] = purpose;
    items.push({
      pkg: toPackage({ record, name, version, purl, licenses: lic, locations: locations(p), metadata }, ctx),
      record,
    });
  });
  if (packages.length > 0 && items.length === 0 && bad > 0) {
    ctx.fail(`no usable package: ${bad} of ${packages.length} malformed (first: ${firstProblem})`);
  }
  const out = finishPackages(items, ctx);
  return { packages: out, distro: distro ?? distroFromPurls(out), records: packages.length };
}

/** The document-level fields the SPDX 2.x JSON schema requires, with their types. */
function checkDocument(doc: Obj, ctx: ReadContext): void {
  const ci = doc.creationInfo;
  if (ci === undefined) ctx.warn('document has no "creationInfo"');
  else if (!isObj(ci)) ctx.fail(`"creationInfo" is ${typeName(ci)}, expected an object`);
  else {
    if (!Array.isArray(ci.creators)) ctx.fail(`creationInfo.creators is ${typeName(ci.creators)}, expected an array of strings`);
    ci.creators.forEach((c, i) => {
      if (typeof c !== 'string') {
        ctx.fail(`creationInfo.creators[${i}] is ${typeName(c)}, expected a string like "Tool: name-version" or "Person: name"`);
      }
    });
    if (ci.created !== undefined && typeof ci.created !== 'string') ctx.fail(`creationInfo.created is ${typeName(ci.created)}, expected a date-time string`);
  }
  for (const k of ['SPDXID', 'name', 'dataLicense', 'documentNamespace']) {
    if (doc[k] !== undefined && typeof doc[k] !== 'string') ctx.fail(`"${k}" is ${typeName(doc[k])}, expected a string`);
  }
  for (const k of ['files', 'relationships', 'snippets', 'hasExtractedLicensingInfos', 'documentDescribes']) {
    if (doc[k] !== undefined && !Array.isArray(doc[k])) ctx.fail(`"${k}" is ${typeName(doc[k])}, expected an array`);
  }
}

/** The licence list vouch's writer kept in an annotation, when it had to join them. */
function vouchLicenses(p: Obj): string[] | null {
  for (const a of arr(p.annotations)) {
    if (!isObj(a) || typeof a.comment !== 'string' || !a.comment.startsWith(VOUCH_LICENSES_ANNOTATION)) continue;
    try {
      const v: unknown = JSON.parse(a.comment.slice(VOUCH_LICENSES_ANNOTATION.length));
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      /* not ours after all */
    }
  }
  return null;
}

function locations(p: Obj): PackageLocation[] {
  const out: PackageLocation[] = [];
  for (const a of arr(p.annotations)) {
    if (!isObj(a) || typeof a.comment !== 'string' || !a.comment.startsWith(VOUCH_LOCATION_ANNOTATION)) continue;
    try {
      const v: unknown = JSON.parse(a.comment.slice(VOUCH_LOCATION_ANNOTATION.length));
      if (isObj(v) && typeof v.path === 'string') out.push({ path: v.path, layer: typeof v.layer === 'string' ? v.layer : null });
    } catch {
      /* not ours after all */
    }
  }
  if (out.length) return out;
  // syft: "acquired package info from DPKG DB: /var/lib/dpkg/status, /usr/share/doc/x/copyright"
  const si = str(p.sourceInfo);
  const m = si ? /^acquired package info from [^:]*:\s*(\/.*)$/.exec(si) : null;
  if (m) for (const path of m[1]!.split(/,\s+(?=\/)/)) if (path) out.push({ path: path.trim(), layer: null });
  return out;
}
