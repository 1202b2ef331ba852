/**
 * `vouch verify-bundle`: the Sigstore conformance client's verify interface.
 * Exit 0 when the bundle verifies for the artifact, 1 when it does not
 * (`REASON: message` on stderr), 2 on bad input (unreadable files, bad flags,
 * a bundle that is not JSON, a malformed digest, a malformed trusted root or key).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { VouchError } from '../../core/errors.js';
import { loadTrustedRoot, verifyBundle, TrustInputError, type BundlePolicy } from '../../core/trust/bundle.js';
import type { Artifact } from '../../core/trust/types.js';
import { sanitizeLine, terminalSafeJson } from '../../core/util/sanitize.js';
import { LOCAL_FILE_LIMITS, LocalFileError, readLocalFileSync } from '../../core/util/local-file.js';
import type { CliIo } from '../io.js';

export interface VerifyBundleFlags {
  bundle?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  key?: string;
  trustedRoot?: string;
  json?: boolean;
}

const DIGEST_ARG = /^(sha256|sha384|sha512):([0-9a-fA-F]+)$/;
const DIGEST_HEX_LENGTH = { sha256: 64, sha384: 96, sha512: 128 } as const;

function usage(message: string): never {
  throw new VouchError('USAGE', message);
}

// Regular files only, bounded: a FIFO or /dev/zero named here is refused rather than hanging or filling memory.
const INPUT_LIMITS = { artifact: 1 << 30, key: LOCAL_FILE_LIMITS.key, bundle: LOCAL_FILE_LIMITS.approval } as const;

function readInput(path: string, what: keyof typeof INPUT_LIMITS): Buffer {
  try {
    return readLocalFileSync(path, { what, max: INPUT_LIMITS[what] });
  } catch (e) {
    throw new VouchError((e as LocalFileError).code ?? 'NOT_FOUND', `cannot read ${what} ${path}: ${(e as LocalFileError).reason ?? (e as Error).message}`);
  }
}

/** `sha256:HEX` → a digest artifact; anything else is a file path. */
export function parseArtifactArgument(arg: string): Artifact {
  // "sha256:" and then no hex: a mistyped digest, not a file name (unless a file of that name exists).
  if (/^(sha256|sha384|sha512):/.test(arg) && !DIGEST_ARG.test(arg) && !existsSync(arg)) {
    usage(`${arg}: malformed digest: expected ${arg.slice(0, arg.indexOf(':'))}:HEX (hex digits only), or an artifact file`);
  }
  const m = DIGEST_ARG.exec(arg);
  if (m) {
    const algorithm = m[1] as keyof typeof DIGEST_HEX_LENGTH;
    if (m[2]!.length !== DIGEST_HEX_LENGTH[algorithm]) usage(`${arg}: a ${algorithm} digest has ${DIGEST_HEX_LENGTH[algorithm]} hex digits`);
    return { kind: 'digest', algorithm, hex: m[2]!.toLowerCase() };
  }
  return { kind: 'bytes', bytes: readInput(arg, 'artifact') };
}

function policyFrom(flags: VerifyBundleFlags): BundlePolicy {
  const hasIdentity = flags.certificateIdentity !== undefined || flags.certificateIdentityRegexp !== undefined;
  if (flags.key !== undefined && (hasIdentity || flags.certificateOidcIssuer !== undefined)) {
    usage('give either --key or --certificate-identity with --certificate-oidc-issuer, not both');
  }
  if (flags.key !== undefined) return { key: readInput(flags.key, 'key').toString('utf8'), name: 'key' };
  if (!hasIdentity || flags.certificateOidcIssuer === undefined) {
    usage('give --certificate-identity (or --certificate-identity-regexp) and --certificate-oidc-issuer, or --key');
  }
  if (flags.certificateIdentity !== undefined && flags.certificateIdentityRegexp !== undefined) {
    usage('give --certificate-identity or --certificate-identity-regexp, not both');
  }
  return {
    identity: {
      issuer: flags.certificateOidcIssuer,
      ...(flags.certificateIdentity !== undefined ? { subject: flags.certificateIdentity } : { subjectRegExp: flags.certificateIdentityRegexp! }),
    },
    name: 'identity',
  };
}

export async function runVerifyBundle(artifactArg: string, flags: VerifyBundleFlags, io: CliIo): Promise<number> {
  if (!flags.bundle) usage('--bundle FILE is required');
  const policy = policyFrom(flags);
  const bundleBytes = readInput(flags.bundle, 'bundle');
  // Bad input, not a failed verification: a bundle that is not even JSON is exit 2, naming the file.
  try {
    JSON.parse(bundleBytes.toString('utf8'));
  } catch (e) {
    throw new VouchError('INVALID_BUNDLE', `bundle ${flags.bundle}: not JSON (${(e as Error).message})`);
  }
  const artifact = parseArtifactArgument(artifactArg);
  let root;
  try {
    root = loadTrustedRoot(flags.trustedRoot);
  } catch (e) {
    if (e instanceof TrustInputError) {
      io.err(`TRUSTED_ROOT_INVALID: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const result = await verifyBundle(bundleBytes, artifact, policy, root);
  const artifactDigest =
    artifact.kind === 'digest' ? `${artifact.algorithm}:${artifact.hex}` : `sha256:${createHash('sha256').update(artifact.bytes).digest('hex')}`;
  if (flags.json) io.out(`${terminalSafeJson({ bundle: flags.bundle, artifact: artifactDigest, ...result }, 2)}\n`);
  if (!result.verified) {
    io.err(`${result.reason}: ${sanitizeLine(result.message)}\n`);
    return 1;
  }
  if (!flags.json) io.out(`OK: ${sanitizeLine(result.message)}\n`);
  return 0;
}

export function registerVerifyBundle(program: Command, io: CliIo): void {
  program
    .command('verify-bundle')
    .description('verify a Sigstore bundle for an artifact, offline (the Sigstore conformance client interface)')
    .argument('<artifact>', 'the artifact file, or its digest as sha256:HEX')
    .requiredOption('--bundle <file>', 'the Sigstore bundle (v0.1 to v0.3 JSON)')
    .option('--certificate-identity <id>', "the signer's exact certificate identity (SAN)")
    .option('--certificate-identity-regexp <re>', "a regular expression the whole certificate identity must match")
    .option('--certificate-oidc-issuer <url>', "the signer's exact OIDC issuer")
    .option('--key <pem-file>', 'verify with this public key instead (public-key bundles only)')
    .option('--trusted-root <file>', 'trusted_root.json (default: the Sigstore public-good root shipped with @sigstore/tuf)')
    .option('--json', 'print the result as one JSON object')
    .action(async (artifact: string, flags: VerifyBundleFlags) => {
      io.setExitCode(await runVerifyBundle(artifact, flags, io));
    });
}
