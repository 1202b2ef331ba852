/**
 * syft JSON reader, any schema version: artifacts with their purl (or the syft
 * type when it has none), locations (`{path, layerID}`, or bare strings in the
 * oldest schemas), licences as strings (schema ≤ 10) or objects with
 * `spdxExpression`/`value` (11+), and the distro as `{name, version}` (old) or
 * `{id, versionID}` (new).
 */
import type { Distro, Package, PackageLocation } from '../types.js';
import { ReadContext, arr, distroFromPurls, finishPackages, isObj, location, q, str, toPackage, typeFromSyft, typeName, type Obj } from './common.js';
import type { ReaderResult } from './cyclonedx.js';

export function readSyft(doc: Obj, ctx: ReadContext): ReaderResult {
  const artifacts = arr(doc.artifacts);
  const items: Array<{ pkg: Package; record: string }> = [];
  const ids = new Set<string>();
  let bad = 0;
  let firstProblem = '';
  artifacts.forEach((a, i) => {
    const problem = (record: string, msg: string): void => {
      bad++;
      firstProblem ||= `${record}: ${msg}`;
      ctx.warn(`${record}: ${msg}; skipped`);
    };
    if (!isObj(a)) return problem(`artifacts[${i}]`, `${typeName(a)}, expected an artifact object`);
    const id = str(a.id);
    const record = id ? `artifact id ${q(id)}` : `artifacts[${i}]`;
    const name = str(a.name);
    if (!name) return problem(record, 'no "name"');
    if (id) {
      if (ids.has(id)) {
        ctx.warn(`${record}: duplicate artifact id; deduplicated (kept the first)`);
        return;
      }
      ids.add(id);
    }
    const syftType = str(a.type);
    const metadata: Record<string, string> = {};
    if (syftType) metadata['syft:type'] = syftType;
    const foundBy = str(a.foundBy);
    if (foundBy) metadata['syft:foundBy'] = foundBy;
    items.push({
      pkg: toPackage(
        {
          record,
          name,
          version: str(a.version) ?? '',
          purl: str(a.purl) || null,
          typeHint: typeFromSyft(syftType),
          licenses: licenses(a.licenses),
          locations: locations(a.locations),
          metadata,
        },
        ctx,
      ),
      record,
    });
  });
  if (artifacts.length > 0 && items.length === 0 && bad > 0) ctx.fail(`no usable artifact: ${bad} of ${artifacts.length} malformed (first: ${firstProblem})`);
  const packages = finishPackages(items, ctx);
  return { packages, distro: distro(doc.distro) ?? distroFromPurls(packages), records: artifacts.length };
}

function licenses(v: unknown): string[] {
  const out: string[] = [];
  for (const l of arr(v)) {
    if (typeof l === 'string') out.push(l);
    else if (isObj(l)) {
      const s = str(l.spdxExpression) || str(l.value);
      if (s) out.push(s);
    }
  }
  return out;
}

function locations(v: unknown): PackageLocation[] {
  const out: PackageLocation[] = [];
  for (const l of arr(v)) {
    const loc = typeof l === 'string' ? location(l, null) : isObj(l) ? location(l.path ?? l.realPath, l.layerID ?? l.FileSystemID) : null;
    if (loc) out.push(loc);
  }
  return out;
}

function distro(d: unknown): Distro | null {
  if (!isObj(d)) return null;
  const id = str(d.id) || str(d.name);
  if (!id) return null;
  return { id, versionId: str(d.versionID) || str(d.version) || null, prettyName: str(d.prettyName) };
}
