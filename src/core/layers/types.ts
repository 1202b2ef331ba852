/** What the streaming layer walk records for every tar entry. */

export type EntryType =
  | 'file'
  | 'dir'
  | 'symlink'
  | 'hardlink'
  | 'char'
  | 'block'
  | 'fifo'
  /** `.wh.NAME`: NAME (given in `path`) is removed from lower layers. */
  | 'whiteout'
  /** `.wh..wh..opq`: the directory in `path` hides everything lower layers put in it. */
  | 'opaque';

export interface LayerEntry {
  /** Absolute, cleaned path ("/etc/passwd"); for whiteouts the path being removed, for opaque markers the directory. */
  path: string;
  type: EntryType;
  /** Permission bits plus setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Size as the tar header declares it (0 for anything but regular files). */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Target of a symlink, or the path (absolute, cleaned) a hard link points at. */
  linkname?: string;
  /** Device numbers of char and block devices. */
  devmajor?: number;
  devminor?: number;
  /** Regular files: sha256 (hex) of the content, hashed as it streamed by. Absent for sparse files and for walks cached before it existed. */
  sha256?: string;
  /** Names of extended attributes set by PAX `SCHILY.xattr.*` records (e.g. "security.capability"). */
  xattrs?: string[];
}

export interface LayerWalk {
  /** Blob digest (verified). */
  digest: string;
  /** sha256 of the uncompressed tar (verified against the config's diff_id when one is given). */
  diffId: string;
  /** Bytes of the uncompressed tar stream. */
  uncompressedSize: number;
  entries: LayerEntry[];
  /** Things that were odd but not fatal (duplicate entries, ignored PAX keys...). Already sanitised. */
  warnings: string[];
  /**
   * Sum of the sizes declared by every tar header of the layer, duplicates and
   * rejected entries included: dive's layer size. When absent (e.g. a walk
   * read back from an older cache) the sum of `entries[].size` is used instead.
   */
  headerBytes?: number;
  /**
   * Content digests not yet copied onto the entries (walks asked with `lazyDigests`): slot k of `slots` is the
   * sha256 of the k-th regular file of the tar, whose entry is `entries[k]` (null when the walker rejected it).
   * materializeDigests() sets `sha256` from them. Never cached or serialised.
   */
  contentDigests?: { slots: Buffer; entries: Array<LayerEntry | null> };
  /** Every entry of the tar, `./` and rejected ones included (what `tar -t | wc -l` prints); metadata headers (PAX, GNU long names) are not entries. */
  tarEntries?: number;
}
