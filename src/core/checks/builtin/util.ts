/** Small helpers the built-in checks share. */
import type { MergedNode } from '../../layers/filesystem.js';
import { linkGroups, type LinkGroup } from '../../layers/link-groups.js';
import type { Package } from '../../packages/types.js';
import { globMatcher, type ResolvedPolicy } from '../policy.js';
import type { CheckContext, PackageSubject } from '../types.js';

const matchers = new WeakMap<ResolvedPolicy, Map<string, (s: string) => boolean>>();

/** A cached matcher for one of the policy's glob lists. */
export function policyMatcher(policy: ResolvedPolicy, list: 'setuid' | 'paths' | 'env' | 'copyleft' | 'unknown' | 'ignoreTypes'): (s: string) => boolean {
  let m = matchers.get(policy);
  if (!m) matchers.set(policy, (m = new Map()));
  let f = m.get(list);
  if (!f) {
    const globs = list === 'copyleft' || list === 'unknown' || list === 'ignoreTypes' ? policy.licenses[list] : policy.allow[list];
    f = globMatcher(globs, list === 'env' || list === 'copyleft' || list === 'unknown' || list === 'ignoreTypes');
    m.set(list, f);
  }
  return f;
}

/** True when the policy's `allow.paths` excludes this path (or something above it) from path checks. */
export function pathAllowed(ctx: CheckContext, path: string): boolean {
  if (ctx.policy.allow.paths.length === 0) return false;
  const m = policyMatcher(ctx.policy, 'paths');
  if (m(path)) return true;
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) if (m(path.slice(0, i))) return true;
  return false;
}

export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

export function packageSubject(p: Pick<Package, 'name' | 'version' | 'type' | 'purl'>): PackageSubject {
  return { name: p.name, version: p.version, type: String(p.type), purl: p.purl };
}

export function nodeLayer(ctx: CheckContext, n: MergedNode): ReturnType<CheckContext['layer']> {
  return ctx.layer(n.layer);
}

/** `pkg@version` for messages. */
export function pkgLabel(p: { name: string; version: string; type: string }): string {
  return `${p.type}/${p.name}@${p.version}`;
}

/** A path's hard-link group; the grouping and its any-header rule live in layers/link-groups.ts (diff uses the same). */
export type { LinkGroup } from '../../layers/link-groups.js';

export function hardLinkGroup(ctx: CheckContext, path: string): LinkGroup | undefined {
  return linkGroups(ctx.merged).get(path);
}
