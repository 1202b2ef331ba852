import { progressReporter } from '../progress.js';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import {
  checkReferences,
  defaultPolicy,
  defaultRegistry,
  DEFAULT_POLICY_YAML,
  failsAt,
  isSeverity,
  loadPolicy,
  POLICY_FILE_NAME,
  SEVERITIES,
  severityRank,
  subjectKey,
  toSarif,
  type CheckOptions,
  type CheckResult,
  type CheckRun,
  type Severity,
} from '../../core/checks/index.js';
import { VouchError } from '../../core/errors.js';
import { describeBaseline } from '../../core/approval/baseline.js';
import { sanitizeLine, terminalSafeJson } from '../../core/util/sanitize.js';
import { table, WHOLE } from '../format/text.js';
import { noStyle, styleFor, type Style } from '../format/style.js';
import { collect, parsePlatform } from '../options.js';
import type { CliIo } from '../io.js';
import { loadSignerTrustFile } from '../../core/trust/trust-file.js';

export interface CheckFlags {
  verify?: boolean;
  policy?: string;
  trust?: string;
  baseline?: string;
  baselineImage?: string;
  scan?: string[];
  sbom?: string;
  format?: string;
  json?: boolean;
  failOn?: string;
  platform?: string;
  insecureRegistry?: string[];
  printPolicy?: boolean;
  showSecrets?: boolean;
}

const require = createRequire(import.meta.url);

function packageJson(): { version?: string; homepage?: string; repository?: string | { url?: string } } {
  for (const p of ['../../../package.json', '../../../../package.json']) {
    try {
      return require(p) as { version?: string };
    } catch {
      /* src vs dist layout */
    }
  }
  return {};
}

/** Where docs/checks.md lives online, from package.json (homepage, else a GitHub repository URL); null when unknown. */
export function docsBaseUrl(pkg = packageJson()): string | null {
  const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  const gh = repo ? /github\.com[/:]([^/]+\/[^/.#]+)/.exec(repo) : null;
  if (gh) return `https://github.com/${gh[1]}/blob/main`;
  if (pkg.homepage && /^https:\/\//.test(pkg.homepage)) return pkg.homepage.replace(/#.*$/, '').replace(/\/+$/, '');
  return null;
}

const STATUS_ORDER: Record<CheckResult['status'], number> = { fail: 0, excepted: 1, pass: 2 };

export function formatCheckTable(run: CheckRun, failOn: Severity, st: Style = noStyle): string {
  const results = run.resultSet.results;
  const many = run.images.length > 1;
  const shown = results
    .filter((r) => r.status !== 'pass')
    .sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || severityRank(b.severity) - severityRank(a.severity) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out: string[] = [];
  for (const im of run.images) out.push(`image   ${sanitizeLine(im.label)}`);
  out.push(`policy  ${run.resultSet.policy.digest}`);
  const t = run.resultSet.trust;
  const b = run.resultSet.baseline;
  // What the baseline is: for an approval record, which release, decision, reviewer and time (approval/baseline.ts accepted it as live).
  if (b) out.push(`baseline ${b.approval ? describeBaseline(b.approval) : sanitizeLine(b.label)}`);
  if (t) out.push(`trust   ${t.file === null ? '(no trust file: no signer is trusted)' : `${sanitizeLine(t.file)}${t.implicit ? ' (implicit ./vouch.trust.yaml)' : ''}`}; root: ${sanitizeLine(t.trustedRoot)}`);
  out.push('');
  if (shown.length === 0) out.push('no findings');
  else {
    const cols = [
      // Narrow terminals keep the check, its severity and its message (cut down to 16 before the severity goes: the
      // severity says more than a message's tail); the subject (often a digest) is cut and dropped first, the image
      // column before everything, then the status (FAIL on nearly every row).
      ...(many ? [{ header: 'IMAGE', max: 40, priority: 5, min: 12 }] : []),
      { header: 'STATUS', priority: 3, min: WHOLE, color: (c: string) => (c.startsWith('FAIL') ? st.bad(c) : st.dim(c)) },
      { header: 'SEVERITY', priority: 2, min: WHOLE, color: (c: string) => st.severity(c.trim(), c) },
      { header: 'CHECK', min: WHOLE },
      { header: 'SUBJECT', max: 60, priority: 4, min: 16 },
      { header: 'MESSAGE', max: 140, min: 16 },
    ];
    const rows = shown.map((r) => [
      ...(many ? [sanitizeLine(r.subject.image)] : []),
      r.status === 'excepted' ? 'excepted' : r.exception?.expired ? 'FAIL*' : 'FAIL',
      r.severity,
      r.id,
      sanitizeLine(subjectKey(r.subject)),
      sanitizeLine(r.message),
    ]);
    out.push(table(cols, rows));
  }
  const count = (s: CheckResult['status']): number => results.filter((r) => r.status === s).length;
  out.push('');
  out.push(`${count('fail')} failing, ${count('excepted')} excepted, ${count('pass')} checks passed; ` + (failsAt(results, failOn) ? `FAIL: findings at or above ${failOn}` : `OK: nothing failing at or above ${failOn}`));
  if (results.some((r) => r.exception?.expired)) out.push('* an exception matched but has expired');
  return out.join('\n');
}

export async function runCheck(refs: string[], flags: CheckFlags, io: CliIo): Promise<number> {
  if (flags.printPolicy) {
    io.out(DEFAULT_POLICY_YAML);
    return 0;
  }
  if (refs.length === 0) throw new VouchError('USAGE', 'check: give at least one image reference');
  // --json as every other command has it; with another --format it is a contradiction.
  if (flags.json && flags.format !== undefined && flags.format !== 'json') throw new VouchError('USAGE', `--json and --format ${JSON.stringify(flags.format)}: give one`);
  const format = flags.json ? 'json' : (flags.format ?? 'table');
  if (!['table', 'json', 'sarif'].includes(format)) throw new VouchError('USAGE', `--format: ${JSON.stringify(format)} is not one of table, json, sarif`);
  if (flags.failOn !== undefined && !isSeverity(flags.failOn)) throw new VouchError('USAGE', `--fail-on: ${JSON.stringify(flags.failOn)} is not one of ${SEVERITIES.join(', ')}`);
  const registry = defaultRegistry();
  const policyPath = flags.policy ?? (existsSync(POLICY_FILE_NAME) ? POLICY_FILE_NAME : undefined);
  const policy = policyPath ? await loadPolicy(policyPath, registry.ids()) : defaultPolicy();
  const opts: CheckOptions = { policy, registry };
  // Given explicitly, a file without signers is a mistake to report, not a verdict on the image.
  if (flags.trust) await loadSignerTrustFile(flags.trust);
  if (flags.trust) opts.trustFile = flags.trust;
  if (flags.baseline) opts.baseline = flags.baseline;
  if (flags.baselineImage !== undefined) opts.baselineImage = flags.baselineImage;
  if (flags.scan?.length) opts.scans = flags.scan;
  if (flags.sbom) opts.sbom = flags.sbom;
  if (flags.platform) opts.platform = parsePlatform(flags.platform);
  if (flags.insecureRegistry?.length) opts.insecureRegistries = flags.insecureRegistry;
  if (flags.showSecrets) opts.showSecrets = true;
  if (flags.verify) opts.verify = true;
  const progress = progressReporter();
  // Several images: each names itself on the progress line.
  opts.onProgress = (ref, p) => progress.update(p, refs.length > 1 ? ref : undefined);
  const run = await checkReferences(refs, opts).finally(progress.done);
  const failOn = (flags.failOn as Severity | undefined) ?? policy.failOn;
  for (const w of run.resultSet.warnings) io.err(`vouch: warning: ${sanitizeLine(w)}\n`);
  if (format === 'json') io.out(`${terminalSafeJson(run.resultSet, 2)}\n`);
  else if (format === 'sarif') {
    const pkg = packageJson();
    io.out(`${terminalSafeJson(toSarif(run.resultSet, registry, { toolVersion: pkg.version ?? '0.0.0', docsBaseUrl: docsBaseUrl(pkg), images: run.images }), 2)}\n`);
  } else io.out(`${formatCheckTable(run, failOn, styleFor())}\n`);
  return failsAt(run.resultSet.results, failOn) ? 1 : 0;
}

export function registerCheck(program: Command, io: CliIo): void {
  program
    .command('check')
    .description('run the baseline checks (least privilege, traceability, provenance, dependencies, compliance) under a policy')
    .argument('[ref...]', 'image references: docker://, oci:, oci-archive:, docker-archive:, docker-daemon:, or bare paths / names')
    .option('--policy <file>', `policy file (default: ./${POLICY_FILE_NAME} when present, else the built-in policy)`)
    .option('--trust <file>', 'trust file (default: ./vouch.trust.yaml when present)')
    .option('--baseline <ref|file>', 'the last approved release (image, SBOM file, or approval record verified against --trust) for downgrades and new licences')
    .option('--baseline-image <key>', "which image of an approval record baseline to compare with (its release key; default: the record's image with the same repository name, or its only image)")
    .option('--scan <file>', 'vulnerability scan report: Trivy JSON, Grype JSON, SARIF, cosign vuln statement (repeatable)', collect)
    .option('--sbom <file>', 'SBOM to compare with the image catalogue (and that counts as the SBOM)')
    .option('--format <format>', 'table, json or sarif (default: table)')
    .option('--json', 'same as --format json')
    .option('--fail-on <severity>', `exit 1 when a failing result is at or above this: ${SEVERITIES.join(', ')} (default: the policy's failOn, high)`)
    .option('--platform <os/arch[/variant]>', "platform to pick from a multi-platform image (default: the host's)")
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable); loopback is always allowed', collect)
    .option('--verify', 're-hash every layer blob even when the cache answers (a cached answer always checks that each blob is there with its size)')
    .option('--show-secrets', 'print history lines in results as they are (secret-looking values are redacted by default)')
    .option('--print-policy', 'print the built-in policy (a starting point for vouch.policy.yaml) and exit')
    .action(async (refs: string[], flags: CheckFlags) => {
      io.setExitCode(await runCheck(refs, flags, io));
    });
}
