/**
 * The content facts of one image, from the per-layer scanner findings cached
 * with the layer walks, resolved against the merged filesystem. Computed once
 * per image (no layer is read) and handed to the checks as `ctx.facts`:
 *
 *   const facts = contentFacts(walks, catalogs, merged);
 *   buildContext({ ..., facts });
 *
 * Keys: `passwd` (the users of the final /etc/passwd, as VCH-LP-001 expects),
 * `secrets` (every credential file of every layer, with whether it is in the
 * final filesystem or which later layer removed it) and `accounts` (the
 * final /etc/passwd, /etc/group and /etc/shadow).
 */
import { mergeLayers, type MergedFilesystem } from '../../layers/filesystem.js';
import type { LayerWalk } from '../../layers/types.js';
import type { LayerCatalog } from '../../packages/catalog/types.js';
import type { CheckFacts } from '../types.js';
import type { AccountsFinding, SecretFinding } from './types.js';
import { minOf } from '../../util/fold.js';

/** How a later layer took a file away. */
export interface Removal {
  /** Index of the first later layer that removed or replaced it. */
  layer: number;
  /** `deleted`: a whiteout of the file or a directory above it; `overwritten`: the path written again; `hidden`: an opaque directory above it. */
  how: 'deleted' | 'overwritten' | 'hidden';
}

/** A credential file of one layer, placed in the image. */
export interface LayerSecret extends SecretFinding {
  /** Index of the layer whose tar holds this version of the file. */
  layer: number;
  /** This very version is what the final filesystem has. */
  final: boolean;
  /** When not final: what removed it (null when no later layer explains it, e.g. inconsistent input). */
  removed: Removal | null;
}

/** One account file of the final filesystem and the layer that wrote it. */
export interface FinalAccounts extends AccountsFinding {
  path: string;
  layer: number;
}

export interface ContentFacts extends CheckFacts {
  passwd: Array<{ name: string; uid: number; gid: number }>;
  secrets: LayerSecret[];
  accounts: { passwd: FinalAccounts | null; group: FinalAccounts | null; shadow: FinalAccounts | null };
}

export function contentFacts(
  walks: ReadonlyArray<Pick<LayerWalk, 'entries'>>,
  catalogs: ReadonlyArray<Pick<LayerCatalog, 'files'>>,
  merged: MergedFilesystem = mergeLayers(walks),
): ContentFacts {
  if (walks.length !== catalogs.length) throw new Error(`${walks.length} layer walks for ${catalogs.length} layer catalogues`);
  const secrets: LayerSecret[] = [];
  const accounts: ContentFacts['accounts'] = { passwd: null, group: null, shadow: null };
  catalogs.forEach((c, layer) => {
    for (const f of c.files) {
      const node = merged.paths.get(f.path);
      const final = node !== undefined && node.layer === layer && node.entry.type === 'file';
      for (const s of f.secrets ?? []) secrets.push({ ...s, layer, final, removed: null });
      if (f.accounts && final) accounts[f.accounts.file] = { ...f.accounts, path: f.path, layer };
    }
  });
  resolveRemovals(walks, secrets);
  secrets.sort((a, b) => a.layer - b.layer || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const passwd = (accounts.passwd?.passwd ?? []).map((p) => ({ name: p.name, uid: p.uid, gid: p.gid }));
  return { passwd, secrets, accounts };
}

/** For every secret not in the final filesystem, the first later layer that removed it: one pass over the later layers' entries, a set lookup each. */
function resolveRemovals(walks: ReadonlyArray<Pick<LayerWalk, 'entries'>>, secrets: LayerSecret[]): void {
  const gone = secrets.filter((s) => !s.final);
  if (gone.length === 0) return;
  // Each path of interest and its ancestors → the secrets under it.
  const watch = new Map<string, LayerSecret[]>();
  for (const s of gone) {
    for (let p = s.path; p !== ''; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
      const list = watch.get(p);
      if (list) list.push(s);
      else watch.set(p, [s]);
    }
    const root = watch.get('/');
    if (root) root.push(s);
    else watch.set('/', [s]);
  }
  const from = minOf(gone.map((s) => s.layer)) + 1;
  for (let j = from; j < walks.length; j++) {
    for (const e of walks[j]!.entries) {
      const list = watch.get(e.path);
      if (!list) continue;
      for (const s of list) {
        if (s.removed || s.layer >= j) continue;
        const self = e.path === s.path;
        if (e.type === 'whiteout') s.removed = { layer: j, how: 'deleted' };
        else if (e.type === 'opaque') s.removed = self ? null : { layer: j, how: 'hidden' };
        else if (self) s.removed = { layer: j, how: 'overwritten' };
        // A non-directory written over a directory above the file replaces the whole subtree.
        else if (e.type !== 'dir') s.removed = { layer: j, how: 'deleted' };
      }
    }
  }
}
