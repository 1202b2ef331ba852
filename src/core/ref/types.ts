/** A docker:// reference, normalised the way docker does (docker.io/library/alpine:latest). */
export interface DockerReference {
  /** Registry host[:port], e.g. "docker.io", "ghcr.io", "127.0.0.1:5000". */
  registry: string;
  /** Repository path inside the registry, e.g. "library/alpine". */
  repository: string;
  tag?: string;
  /** "sha256:<hex>" when pinned. When both tag and digest are given, the digest wins (the tag is informational). */
  digest?: string;
}

export type ImageReference =
  | { transport: 'docker'; ref: DockerReference }
  | { transport: 'oci'; path: string; tag?: string; digest?: string }
  | { transport: 'oci-archive'; path: string; tag?: string; digest?: string }
  | { transport: 'docker-archive'; path: string; tag?: string }
  | { transport: 'docker-daemon'; name: string; digest?: string }
  /** A bare argument: resolved later (path, daemon, then registry). */
  | { transport: 'auto'; input: string };
