/**
 * vouch's own `vouch sbom --json` document read back: `{source, distro,
 * packages: [{name, version, type, purl, licenses, locations}]}`, so the
 * output of one run is an input to `sbom`, `diff` and `check --sbom`.
 */
import type { Package } from '../types.js';
import { ReadContext, arr, finishPackages, isObj, location, str, toPackage, typeName, type Obj } from './common.js';
import type { ReaderResult } from './cyclonedx.js';

const SOURCES = new Set(['catalog', 'attached', 'file']);

/** The shape `vouch sbom --json` writes (source, distro object or null, packages array). */
export function isVouchSbomJson(doc: Obj): boolean {
  return typeof doc.source === 'string' && SOURCES.has(doc.source) && Array.isArray(doc.packages) && (doc.distro === null || isObj(doc.distro));
}

export function readVouchJson(doc: Obj, ctx: ReadContext): ReaderResult {
  const packages = arr(doc.packages);
  const items: Array<{ pkg: Package; record: string }> = [];
  packages.forEach((p, i) => {
    const record = `packages[${i}]`;
    if (!isObj(p)) return ctx.warn(`${record}: ${typeName(p)}, expected a package object; skipped`);
    const name = str(p.name);
    if (!name) return ctx.warn(`${record}: no "name"; skipped`);
    items.push({
      pkg: toPackage(
        {
          record,
          name,
          version: str(p.version) ?? '',
          purl: str(p.purl) || null,
          typeHint: str(p.type) ?? 'generic',
          licenses: arr(p.licenses).filter((l): l is string => typeof l === 'string'),
          locations: arr(p.locations).flatMap((l) => {
            const loc = isObj(l) ? location(l.path, l.layer) : null;
            return loc ? [loc] : [];
          }),
        },
        ctx,
      ),
      record,
    });
  });
  const d = isObj(doc.distro) ? doc.distro : null;
  const id = d ? str(d.id) : null;
  return { packages: finishPackages(items, ctx), distro: id ? { id, versionId: str(d!.versionId) || null, prettyName: null } : null, records: packages.length };
}
