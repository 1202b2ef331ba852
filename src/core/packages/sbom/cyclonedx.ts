/**
 * CycloneDX JSON 1.2–1.7 reader. Nested components are flattened (an explicit
 * stack, so depth cannot overflow ours); `operating-system` components give the
 * distro instead of a package; licences come as SPDX ids, names or expressions;
 * locations come from syft's `syft:location:N:*` properties, our own
 * `vouch:location:N:*`, npm's `cdx:npm:package:path` and 1.5+ evidence
 * occurrences. Bad records are warnings naming the bom-ref; the dependency
 * graph is checked for dangling refs in one linear pass.
 */
import type { Distro, Package, PackageLocation } from '../types.js';
import {
  ReadContext,
  arr,
  distroFromPurls,
  finishPackages,
  isObj,
  q,
  str,
  toPackage,
  typeFromSyft,
  typeName,
  type Obj,
} from './common.js';
import { parsePurl } from '../purl.js';

export interface ReaderResult {
  packages: Package[];
  distro: Distro | null;
  /** Records in the document (components, SPDX packages, syft artifacts), before deduplication. */
  records: number;
}

export function readCycloneDx(doc: Obj, ctx: ReadContext): ReaderResult {
  if (doc.components !== undefined && !Array.isArray(doc.components)) ctx.fail(`"components" is ${typeName(doc.components)}, expected an array`);
  const items: Array<{ pkg: Package; record: string }> = [];
  const refs = new Set<string>();
  let distro: Distro | null = null;
  let records = 0;
  let bad = 0;
  let firstBad = '';

  // Depth-first, in document order, without recursion.
  const stack: Array<{ c: unknown; path: string }> = [];
  const pushAll = (list: unknown[], path: string): void => {
    for (let i = list.length - 1; i >= 0; i--) stack.push({ c: list[i], path: `${path}[${i}]` });
  };
  pushAll(arr(doc.components), 'components');
  while (stack.length) {
    const { c, path } = stack.pop()!;
    records++;
    if (!isObj(c)) {
      ctx.warn(`${path}: ${typeName(c)}, expected a component object; skipped`);
      bad++;
      firstBad ||= path;
      continue;
    }
    if (c.components !== undefined) {
      if (Array.isArray(c.components)) pushAll(c.components, `${path}.components`);
      else ctx.warn(`${path}.components: ${typeName(c.components)}, expected an array; ignored`);
    }
    const ref = str(c['bom-ref']);
    const record = ref !== null ? `component bom-ref ${q(ref)}` : `component ${path}`;
    if (ref !== null) {
      if (refs.has(ref)) {
        ctx.warn(`${record}: duplicate bom-ref; deduplicated (kept the first)`);
        continue;
      }
      refs.add(ref);
    }
    const name = str(c.name);
    if (!name) {
      ctx.warn(`${record}: no "name"; skipped`);
      bad++;
      firstBad ||= record;
      continue;
    }
    if (c.type === 'operating-system') {
      distro ??= osDistro(c);
      continue;
    }
    const version = typeof c.version === 'string' ? c.version : typeof c.version === 'number' ? String(c.version) : '';
    const purlStr = str(c.purl);
    const purl = parsePurl(purlStr);
    const group = str(c.group);
    let pkgName = name;
    if (group && (purl?.type === 'npm' || purl?.type === 'golang' || (!purl && group.startsWith('@')))) pkgName = `${group}/${name}`;
    const props = properties(c, record, ctx);
    const typeHint = typeFromSyft(props.get('syft:package:type') ?? null) ?? (group?.startsWith('@') ? 'npm' : null);
    const pkg = toPackage(
      {
        record,
        name: pkgName,
        version,
        purl: purlStr,
        parsedPurl: purl,
        typeHint,
        namespace: group,
        licenses: licenses(c.licenses, record, ctx),
        locations: locations(c, props),
      },
      ctx,
    );
    items.push({ pkg, record });
  }
  if (records > 0 && items.length === 0 && bad > 0 && bad === records) {
    ctx.fail(`no usable component: every one of ${records} is malformed (first: ${firstBad})`);
  }
  checkDependencies(doc, refs, ctx);
  const packages = finishPackages(items, ctx);
  return { packages, distro: distro ?? distroFromPurls(packages), records };
}

function osDistro(c: Obj): Distro {
  const props = new Map<string, string>();
  for (const p of arr(c.properties)) if (isObj(p) && typeof p.name === 'string' && typeof p.value === 'string') props.set(p.name, p.value);
  return {
    id: props.get('syft:distro:id') ?? str(c.name),
    versionId: props.get('syft:distro:versionID') ?? (str(c.version) || null),
    prettyName: props.get('syft:distro:prettyName') ?? null,
  };
}

function properties(c: Obj, record: string, ctx: ReadContext): Map<string, string> {
  const m = new Map<string, string>();
  if (c.properties === undefined) return m;
  if (!Array.isArray(c.properties)) {
    ctx.warn(`${record}: "properties" is ${typeName(c.properties)}, expected an array; ignored`);
    return m;
  }
  for (const p of c.properties) if (isObj(p) && typeof p.name === 'string' && typeof p.value === 'string' && !m.has(p.name)) m.set(p.name, p.value);
  return m;
}

function licenses(v: unknown, record: string, ctx: ReadContext): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    ctx.warn(`${record}: "licenses" is ${typeName(v)}, expected an array; ignored`);
    return [];
  }
  const out: string[] = [];
  for (const l of v) {
    if (!isObj(l)) continue;
    const expr = str(l.expression);
    if (expr) {
      out.push(expr);
      continue;
    }
    if (isObj(l.license)) {
      const id = str(l.license.id) ?? str(l.license.name);
      if (id) out.push(id);
    }
  }
  return out;
}

function locations(c: Obj, props: Map<string, string>): PackageLocation[] {
  const out: PackageLocation[] = [];
  const seen = new Set<string>();
  const add = (path: string | null | undefined, layer: string | null | undefined): void => {
    if (!path) return;
    const k = `${path}\0${layer ?? ''}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ path, layer: layer || null });
  };
  for (const prefix of ['vouch:location', 'syft:location']) {
    for (let i = 0; i < 10000; i++) {
      const path = props.get(`${prefix}:${i}:path`);
      if (path === undefined) break;
      add(path, props.get(`${prefix}:${i}:layer`) ?? props.get(`${prefix}:${i}:layerID`));
    }
  }
  add(props.get('cdx:npm:package:path'), null);
  if (isObj(c.evidence)) for (const o of arr(c.evidence.occurrences)) if (isObj(o)) add(str(o.location), null);
  return out;
}

/**
 * Dangling refs in `dependencies`. The graph itself is not walked (cycles are
 * normal in npm graphs), so a cyclic or huge graph costs one linear pass.
 */
function checkDependencies(doc: Obj, refs: Set<string>, ctx: ReadContext): void {
  if (doc.dependencies === undefined) return;
  if (!Array.isArray(doc.dependencies)) {
    ctx.warn(`"dependencies" is ${typeName(doc.dependencies)}, expected an array; ignored`);
    return;
  }
  const metaRef = isObj(doc.metadata) && isObj(doc.metadata.component) ? str(doc.metadata.component['bom-ref']) : null;
  let dangling = 0;
  let firstDangling = '';
  for (const d of doc.dependencies) {
    if (!isObj(d) || typeof d.ref !== 'string') continue;
    const to = arr(d.dependsOn).filter((x): x is string => typeof x === 'string');
    for (const r of [d.ref, ...to]) {
      if (!refs.has(r) && r !== metaRef) {
        dangling++;
        firstDangling ||= r;
      }
    }
  }
  if (dangling) ctx.warn(`dependencies: ${dangling} reference(s) to unknown bom-refs (first: ${q(firstDangling)})`);
}
