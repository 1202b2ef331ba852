/** Dependency control and compliance: SBOM, lockfiles, baseline diff, licences, vulnerability scans. */
import { diffInventories } from '../../diff/packages.js';
import { compareInventories } from '../../packages/compare.js';
import { mergeAttachedSboms, type AttachedScan } from '../../packages/attached.js';
import type { Package, PackageInventory } from '../../packages/types.js';
import { COSIGN_VULN_PREDICATE, scanMatchesImage, type ScanReport } from '../scans.js';
import { atLeast, type Check, type CheckContext, type Finding } from '../types.js';
import { packageSubject, pathAllowed, pkgLabel, policyMatcher } from './util.js';

/**
 * Attached evidence a check may use: verified against the trust file, or
 * unsigned when the policy lets this check accept unsigned evidence. Evidence
 * signed by someone untrusted never counts (stripping its signature must not
 * turn a failure into a pass, so neither may keeping it).
 */
function usable<T extends { verified: boolean | null }>(ctx: CheckContext, id: string, items: readonly T[]): { used: T[]; refused: T[] } {
  const unsigned = ctx.policy.checks[id]?.unsignedEvidence === true;
  const used = items.filter((x) => x.verified === true || (x.verified === null && unsigned));
  return { used, refused: items.filter((x) => !used.includes(x)) };
}

/** Why refused evidence did not count, for failure messages. */
function refusedNote(id: string, refused: ReadonlyArray<{ label: string; verified: boolean | null }>): string {
  if (refused.length === 0) return '';
  const unsigned = refused.filter((x) => x.verified === null).length;
  const parts = [];
  if (unsigned) parts.push(`${unsigned} unsigned (policy checks.${id}.unsignedEvidence is not set)`);
  if (refused.length - unsigned) parts.push(`${refused.length - unsigned} not verified against a trusted signer`);
  return ` (attached but not counted: ${refused.map((x) => x.label).join('; ')}: ${parts.join(', ')})`;
}

const SBOM_PREDICATE = /cyclonedx\.org\/bom|spdx\.dev\/Document|anchore\.com\/syft|^(cyclonedx|spdx|spdxjson)$/i;

export const noSbom: Check = {
  id: 'VCH-DC-001',
  title: 'No SBOM attached',
  step: 'dependency-control',
  defaultSeverity: 'medium',
  help: {
    what: 'No SBOM signed by a trusted signer is attached to the image (a CycloneDX or SPDX in-toto attestation in cosign\'s `.att` tag or as an OCI 1.1 referrer that verifies against the trust file) and none was given with `--sbom`. Unsigned SBOMs (a cosign `.sbom` attachment, an SBOM referrer, a bare in-toto statement) count only when the policy sets `checks.VCH-DC-001.unsignedEvidence: true`; an SBOM signed by someone untrusted never counts. An attestation whose subject is another image digest, or an SBOM that cannot be read, does not count. The result names the SBOM used and whether it verified.',
    why: 'The SBOM the build produced is the supplier\'s statement of what is inside; without it the review relies on what vouch can catalogue, and consumers have nothing to check later releases against.',
    fix: 'Generate an SBOM in CI (`syft <image> -o cyclonedx-json`, `docker buildx build --sbom=true`) and attach it (`cosign attest --type cyclonedx`), or pass it to the review with `--sbom FILE`.',
  },
  run(ctx) {
    if (ctx.sbom) return { pass: `SBOM given: ${ctx.sbom.path}` };
    if (ctx.attached) {
      // What was actually read: usable SBOMs about this image (an attestation about another digest does not count).
      // Only SBOMs signed by a trusted signer count (or unsigned ones, when the policy says so).
      const { used, refused } = usable(ctx, 'VCH-DC-001', ctx.attached.sboms);
      if (used.length > 0) return { pass: `SBOM attached: ${used.map(attachedLabel).join('; ')}` };
      const note = refusedNote('VCH-DC-001', refused);
      const skipped = ctx.attached.skipped.filter((s) => s.kind === 'sbom');
      if (skipped.length > 0) return [{ message: `no usable SBOM is attached: ${skipped.map((s) => `${s.label}: ${s.reason}`).join('; ')}${note}` }];
      return [{ message: `no ${refused.length ? 'trusted ' : ''}SBOM is attached to the image and none was given with --sbom${note}` }];
    }
    const att = ctx.chain?.json.attestations.filter((a) => a.verified && SBOM_PREDICATE.test(a.predicateType ?? '')) ?? [];
    if (att.length > 0) return { pass: `SBOM attestation attached (${att[0]!.predicateType}), verified by ${att[0]!.signer?.trustedAs ?? 'a trusted signer'}` };
    if (ctx.policy.checks['VCH-DC-001']?.unsignedEvidence && ctx.chain?.attachments.some((a) => a.kind === 'sbom')) return { pass: 'SBOM attached (cosign .sbom), unsigned: accepted by the policy (unsignedEvidence)' };
    return [{ message: ctx.chain ? 'no SBOM is attached to the image and none was given with --sbom' : 'no SBOM given with --sbom (attachments cannot be discovered for this source)' }];
  },
};

/** `.sbom attachment sha256:… (text/spdx+json), verified by ci`. */
function attachedLabel(s: { label: string; verified: boolean | null; signer?: { trustedAs: string | null } }): string {
  return `${s.label}${s.verified === true ? `, verified${s.signer?.trustedAs ? ` by ${s.signer.trustedAs}` : ''}` : s.verified === false ? ', signature not verified' : ', unsigned: accepted by the policy (unsignedEvidence)'}`;
}

/** Below this share of packages in common (of the smaller side), and with this many differences, an SBOM is about another image. */
const UNRELATED_SHARE = 0.25;
const UNRELATED_MIN_DIFFERENCES = 10;

export const sbomMismatch: Check = {
  id: 'VCH-DC-002',
  title: 'SBOM does not match the image',
  step: 'dependency-control',
  defaultSeverity: 'medium',
  help: {
    what: 'An SBOM attached to the image (`.sbom` tag, SPDX/CycloneDX attestation about this digest, SBOM referrer; several are merged) or given with `--sbom`, and vouch\'s own catalogue of the image disagree: packages only one of them lists, or the same package at different versions (matched by purl, then by type and name). When the SBOM names its own subject (CycloneDX `metadata.component`, SPDX\'s described package: a `pkg:oci` purl or SHA-256 digest) and that is not this image\'s manifest or config digest, or when the two share under a quarter of their packages (or the image has none catalogued), the SBOM is about another image: one high result says so.',
    why: 'An SBOM that does not describe the image is worse than none: vulnerability and licence decisions made on it are wrong. Typical causes: generated from the source tree or another build, or an image changed after it.',
    fix: 'Generate the SBOM from the exact image digest in the same pipeline run (`syft <image>@<digest>`), and look at each difference: a package vouch cannot see may be a binary the SBOM tool knows better, which is fine; a version difference is not.',
  },
  run(ctx) {
    const attached = ctx.attached?.sboms ?? [];
    if (!ctx.sbom && attached.length === 0) return { pass: 'not applicable: no SBOM content to compare (none attached; give one with --sbom)' };
    if (!ctx.inventory) return { pass: 'not applicable: the image was not catalogued' };
    const out: Finding[] = [];
    const compare = (inv: PackageInventory, the: string, says = 'says'): void => {
      // The SBOM names its own subject: another digest means another image, whatever the packages say.
      // (A synthesised manifest digest is vouch's own, so a tool's SBOM of the same daemon image cannot name it.)
      const ours = [ctx.image.digest, ctx.analysis.config.digest];
      if (inv.describes && !ctx.analysis.synthesizedManifest && !ours.includes(inv.describes)) {
        out.push({ severity: 'high', message: `${the} describes ${inv.describes}, not this image (${ctx.image.digest})` });
        return;
      }
      const c = compareInventories(inv, ctx.inventory!);
      // An SBOM of another image matches almost nothing: one result that says so, not one per package.
      const inSbom = inv.packages.length;
      const inImage = ctx.inventory!.packages.length;
      const shared = inSbom - c.onlyInAttached.length;
      const differences = c.onlyInAttached.length + c.onlyInCatalog.length + c.versionMismatch.length;
      // An image with nothing catalogued shares nothing with any SBOM that lists packages: the same one result, with the counts.
      if (inSbom > 0 && differences >= UNRELATED_MIN_DIFFERENCES && (inImage === 0 || shared < UNRELATED_SHARE * Math.min(inSbom, inImage))) {
        out.push({
          severity: 'high',
          message: `${the} does not describe this image: it lists ${inSbom} packages, the image has ${inImage}, and only ${shared} are in both (${c.versionMismatch.length} of them at another version)`,
        });
        return;
      }
      for (const p of c.onlyInCatalog) out.push({ subject: { package: packageSubject(p), path: p.locations[0]?.path ?? null }, message: `${pkgLabel(p)} is in the image but not in ${the}` });
      for (const p of c.onlyInAttached) out.push({ subject: { package: packageSubject(p) }, message: `${pkgLabel(p)} is in ${the} but not found in the image` });
      for (const m of c.versionMismatch) {
        out.push({ subject: { package: { name: m.name, version: m.catalogVersion, type: m.type, purl: m.catalogPurl } }, message: `${m.type}/${m.name}: ${the} ${says} ${m.attachedVersion}, the image has ${m.catalogVersion}` });
      }
    };
    if (ctx.sbom) compare(ctx.sbom.inventory, 'the SBOM');
    // Several attached SBOMs (an .sbom tag and an attestation, say) are compared merged, as `vouch sbom --attached` prints them.
    if (attached.length > 0) compare(mergeAttachedSboms(attached), attached.length === 1 ? 'the attached SBOM' : 'the attached SBOMs', attached.length === 1 ? 'says' : 'say');
    if (out.length === 0) return { pass: `the ${ctx.sbom ? 'given' : 'attached'} SBOM${ctx.sbom && attached.length ? 's match' : ' matches'} the catalogue (${ctx.inventory.packages.length} packages)` };
    return out;
  },
};

const NPM_LOCKS = ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock'];
const PY_LOCKS = ['poetry.lock', 'Pipfile.lock', 'pdm.lock', 'uv.lock', 'pylock.toml', 'requirements.txt', 'requirements.lock'];
const PY_SYSTEM = /\/(site-packages|dist-packages)\/|^\/usr\/(local\/)?lib\/python|^\/usr\/share\//;

/** True when some path in the (sorted) file list starts with `prefix`. */
function hasPrefix(files: CheckContext['files'], prefix: string): boolean {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (files[mid]![0] < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo < files.length && files[lo]![0].startsWith(prefix);
}

export const noLockfile: Check = {
  id: 'VCH-DC-003',
  title: 'Application without a lockfile',
  step: 'dependency-control',
  defaultSeverity: 'medium',
  help: {
    what: 'npm: a package.json outside node_modules with installed dependencies beside it (a node_modules directory) and no package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml or bun.lock(b) in the same directory. Python: a pyproject.toml or Pipfile outside site-packages/dist-packages and /usr/lib/python* with no poetry.lock, Pipfile.lock, pdm.lock, uv.lock, pylock.toml, requirements.txt or requirements.lock beside it. (Whether a requirements.txt pins every version needs its content: that is left to the content scanners.)',
    why: 'Without a lockfile each build resolves dependency ranges anew: the image holds whatever versions the registry served that day, which nobody reviewed, and a compromised release is picked up silently.',
    fix: 'Commit the lockfile and install from it (`npm ci`, `yarn install --frozen-lockfile`, `pnpm install --frozen-lockfile`, `poetry install --no-root --only main`, `uv sync --frozen`, `pip install --require-hashes -r requirements.txt`).',
  },
  run(ctx) {
    const out: Finding[] = [];
    for (const [path, n] of ctx.files) {
      if (n.entry.type !== 'file') continue;
      const slash = path.lastIndexOf('/');
      const base = path.slice(slash + 1);
      const isNpm = base === 'package.json';
      const isPy = base === 'pyproject.toml' || base === 'Pipfile';
      if (!isNpm && !isPy) continue;
      const dir = path.slice(0, slash) || '';
      if (pathAllowed(ctx, path)) continue;
      if (isNpm) {
        if (path.includes('/node_modules/')) continue;
        if (!hasPrefix(ctx.files, `${dir}/node_modules/`) && !ctx.merged.paths.has(`${dir}/node_modules`)) continue;
        if (NPM_LOCKS.some((l) => ctx.merged.paths.has(`${dir}/${l}`))) continue;
        out.push({ subject: { path, layer: ctx.layer(n.layer) }, message: `${path}: dependencies are installed (node_modules) but there is no lockfile` });
      } else {
        if (PY_SYSTEM.test(path)) continue;
        const locks = base === 'Pipfile' ? ['Pipfile.lock'] : PY_LOCKS;
        if (locks.some((l) => ctx.merged.paths.has(`${dir}/${l}`))) continue;
        out.push({ subject: { path, layer: ctx.layer(n.layer) }, message: `${path}: no lockfile (${locks.slice(0, 4).join(', ')}…) beside it` });
      }
    }
    return out;
  },
};

export const downgrades: Check = {
  id: 'VCH-DC-004',
  title: 'Package downgraded against the baseline',
  step: 'dependency-control',
  defaultSeverity: 'high',
  help: {
    what: 'Packages whose version is lower than in the baseline given with `--baseline` (the last approved release: an image or an SBOM), by each ecosystem\'s own version order (dpkg, apk, rpm, semver, PEP 440, Maven).',
    why: 'A downgrade usually reintroduces fixed vulnerabilities and is rarely intended: a stale base image, a lockfile reverted by a merge, or a dependency-confusion substitution.',
    fix: 'Find where the old version comes from (`vouch diff BASELINE IMAGE`), rebuild on the current base / lockfile; if the downgrade is deliberate (a regression in the newer version), record an exception with the reason.',
  },
  run(ctx) {
    if (!ctx.baseline) return { pass: 'not applicable: no --baseline' };
    if (!ctx.inventory) return { pass: 'not applicable: the image was not catalogued' };
    const d = diffInventories(ctx.baseline.inventory, ctx.inventory);
    const byKey = new Map(ctx.inventory.packages.map((p) => [`${p.type}\0${p.name}\0${p.version}`, p]));
    return d.changed
      .filter((c) => c.direction === 'downgrade')
      .map((c) => {
        const p = byKey.get(`${c.type}\0${c.name}\0${c.to}`);
        return {
          subject: { package: p ? packageSubject(p) : { name: c.name, version: c.to, type: c.type, purl: '' }, path: p?.locations[0]?.path ?? null },
          message: `${c.type}/${c.name} is downgraded from ${c.from} (baseline) to ${c.to}`,
        };
      });
  },
};

export const contentSwapped: Check = {
  id: 'VCH-DC-007',
  title: 'File content changed against the baseline with size, mode and owner unchanged',
  step: 'dependency-control',
  defaultSeverity: 'medium',
  help: {
    what: 'Regular files (and hard links) at the same path as in the baseline image given with `--baseline`, with the same size, mode and owner but different content (the sha256 recorded as each file streamed by). Content changes that also change the size are listed by `vouch diff`.',
    why: 'A binary or configuration file swapped in place for one of the same length is what a tampered build looks like: nothing in a listing of names, sizes and modes shows it.',
    fix: 'Check that the change is expected (a rebuilt binary, an edited configuration): `vouch diff BASELINE IMAGE` shows the digests; if it is, approve the release; if not, rebuild from a trusted source.',
  },
  run(ctx) {
    if (!ctx.baseline) return { pass: 'not applicable: no --baseline' };
    const base = ctx.baseline.files;
    if (!base) return { pass: 'not applicable: the baseline is an SBOM (no file contents to compare)' };
    const out: Finding[] = [];
    for (const [path, n] of ctx.files) {
      const e = n.entry;
      if (e.type !== 'file' && e.type !== 'hardlink') continue;
      const file = e.type === 'file' ? e : ctx.merged.hardLinks.get(path);
      const was = base.get(path);
      if (!file?.sha256 || !was?.sha256 || was.sha256 === file.sha256) continue;
      // The file index gives a hard link its target's size (diff's bytes per path), as `file` has.
      if (was.type !== e.type || was.size !== file.size || was.mode !== e.mode || was.uid !== e.uid || was.gid !== e.gid) continue;
      if (pathAllowed(ctx, path)) continue;
      out.push({
        subject: { path, layer: ctx.layer(n.layer) },
        message: `${path} has different content from the baseline (sha256 ${was.sha256.slice(0, 12)}… → ${file.sha256.slice(0, 12)}…) with the same size (${file.size} bytes), mode and owner`,
      });
    }
    return out;
  },
};

/** The package licence strings, split into OR alternatives of SPDX ids. */
function licenceAlternatives(expr: string): string[][] {
  return expr
    .replace(/[()]/g, ' ')
    .split(/\s+OR\s+/i)
    .map((alt) => alt.split(/\s+(?:AND|WITH)\s+/i).map((s) => s.trim()).filter(Boolean));
}

function newPackages(ctx: CheckContext): { pkgs: Package[]; note: string } {
  const ignored = policyMatcher(ctx.policy, 'ignoreTypes');
  const inv = ctx.inventory!;
  const pkgs = ctx.baseline ? diffInventories(ctx.baseline.inventory, inv).added : inv.packages;
  return { pkgs: pkgs.filter((p) => !ignored(String(p.type))), note: ctx.baseline ? 'new since the baseline' : 'no baseline: every package counts as new' };
}

export const copyleftLicences: Check = {
  id: 'VCH-DC-005',
  title: 'New package under a copyleft licence',
  step: 'dependency-control',
  defaultSeverity: 'medium',
  help: {
    what: 'Packages new since `--baseline` (every package when there is none) whose licence is copyleft by the policy\'s `licenses.copyleft` list (GPL, AGPL, SSPL, EUPL, OSL… by default; LGPL and MPL are not), unless an OR alternative is not copyleft. OS packages (`licenses.ignoreTypes`: deb, apk, rpm) are not judged.',
    why: 'Shipping copyleft code in a distributed product can oblige you to publish your own source (AGPL even for network use); legal review should see it before release, not after.',
    fix: 'Replace the dependency, or get the licence reviewed and record an exception (reason: the review\'s reference).',
  },
  run(ctx) {
    if (!ctx.inventory) return { pass: 'not applicable: the image was not catalogued' };
    const copyleft = policyMatcher(ctx.policy, 'copyleft');
    const { pkgs, note } = newPackages(ctx);
    const out: Finding[] = [];
    for (const p of pkgs) {
      const bad = p.licenses.filter((l) => licenceAlternatives(l).every((alt) => alt.some((id) => copyleft(id))));
      if (bad.length > 0) out.push({ subject: { package: packageSubject(p), path: p.locations[0]?.path ?? null }, message: `${pkgLabel(p)} is licensed ${bad.join(' AND ')} (copyleft; ${note})` });
    }
    return out;
  },
};

export const unknownLicences: Check = {
  id: 'VCH-DC-006',
  title: 'New package with an unknown licence',
  step: 'dependency-control',
  defaultSeverity: 'low',
  help: {
    what: 'Packages new since `--baseline` (every package when there is none) with no licence, or only licences the policy lists as unknown (`licenses.unknown`: NOASSERTION, NONE, UNKNOWN, "SEE LICENSE IN…"). OS packages are not judged.',
    why: 'Code without a known licence may not be redistributable at all; it also hints at a package from an unusual source.',
    fix: 'Find the licence upstream; if it is fine, record an exception naming it; otherwise replace the package.',
  },
  run(ctx) {
    if (!ctx.inventory) return { pass: 'not applicable: the image was not catalogued' };
    const unknown = policyMatcher(ctx.policy, 'unknown');
    const { pkgs, note } = newPackages(ctx);
    const out: Finding[] = [];
    for (const p of pkgs) {
      const known = p.licenses.filter((l) => l.trim() !== '' && !unknown(l.trim()));
      if (known.length === 0) out.push({ subject: { package: packageSubject(p), path: p.locations[0]?.path ?? null }, message: `${pkgLabel(p)} has ${p.licenses.length === 0 ? 'no licence' : `only an unknown licence (${p.licenses.join(', ')})`} (${note})` });
    }
    return out;
  },
};

/**
 * The scans that may be about this image (those that name other digests only
 * are not): --scan reports (the reviewer gave them), and attached ones whose
 * signature verified against the trust file; unsigned attached ones only when
 * the policy lets check `id` accept unsigned evidence.
 */
function applicableScans(ctx: CheckContext, id: string, findingsFromUnsigned = false): { scans: ScanReport[]; foreign: ScanReport[]; refused: AttachedScan[]; trusted: number } {
  const digests = [ctx.image.digest, ctx.analysis.config.digest, ...(ctx.analysis.index ? [ctx.analysis.index.digest] : [])];
  const scans: ScanReport[] = [];
  const foreign: ScanReport[] = [];
  const all = ctx.attached?.scans ?? [];
  const { used, refused } = usable(ctx, id, all);
  // Findings can only make a check fail: unsigned reports may add them (never an untrusted signer's), but not make it pass.
  const extra = findingsFromUnsigned ? refused.filter((s) => s.verified === null) : [];
  // The report's label says which evidence it is and whether it verified.
  const attached = [...used.map((s) => ({ ...s.report, path: attachedLabel(s) })), ...extra.map((s) => ({ ...s.report, path: `${s.label}, unsigned` }))];
  for (const s of [...ctx.scans, ...attached]) (scanMatchesImage(s, digests) === 'mismatch' ? foreign : scans).push(s);
  return { scans, foreign, refused, trusted: scans.length - extra.filter((s) => scanMatchesImage(s.report, digests) !== 'mismatch').length };
}

export const noVulnScan: Check = {
  id: 'VCH-CP-001',
  title: 'No vulnerability scan',
  step: 'compliance',
  defaultSeverity: 'medium',
  help: {
    what: 'No vulnerability-scan attestation (cosign predicate `https://cosign.sigstore.dev/attestation/vuln/v1`) that verifies against the trust file is attached, and no scan report of this image (Trivy JSON, Grype JSON, SARIF, or a cosign vuln statement) was given with `--scan`. Unsigned attached reports (a SARIF, Trivy or Grype OCI 1.1 referrer, a bare in-toto statement) count for VCH-CP-001/002/003 only when the policy sets `checks.<ID>.unsignedEvidence: true` for that check; a report signed by someone untrusted never counts. A report or attestation that names another image digest does not count. The result names each report used and whether it verified.',
    why: 'Known vulnerabilities are the first thing an approval must account for; without a scan of this exact image the review cannot say it did.',
    fix: 'Scan in CI and keep the report: `trivy image --format json -o scan.json <image>@<digest>` or `grype <image> -o json`, then `vouch check --scan scan.json`, or attach it: `cosign attest --type vuln --predicate scan.json`.',
  },
  run(ctx) {
    const { scans, foreign, refused } = applicableScans(ctx, 'VCH-CP-001');
    if (scans.length > 0) return { pass: `scan report${scans.length === 1 ? '' : 's'}: ${scans.map((s) => `${s.path} (${s.scanner})`).join(', ')}` };
    const note = refusedNote('VCH-CP-001', refused);
    const att = ctx.chain?.json.attestations.filter((a) => a.predicateType === COSIGN_VULN_PREDICATE) ?? [];
    if (att.some((a) => a.verified) && !ctx.attached) return { pass: 'a verified vulnerability-scan attestation is attached' };
    if (att.length > 0 && !att.some((a) => a.verified)) return [{ message: `a vulnerability-scan attestation is attached but does not verify against a trusted signer (${att[0]!.reason})${note}` }];
    if (foreign.length > 0) return [{ message: `no scan of this image: ${foreign.map((s) => s.path).join(', ')} name${foreign.length === 1 ? 's' : ''} another image${note}` }];
    return [{ message: `no ${refused.length ? 'trusted ' : ''}vulnerability scan is attached and no --scan report was given${note}` }];
  },
};

export const staleScan: Check = {
  id: 'VCH-CP-002',
  title: 'Vulnerability scan too old',
  step: 'compliance',
  defaultSeverity: 'medium',
  help: {
    what: 'A scan report given with `--scan` or attached to the image (a verified cosign vuln attestation, a SARIF / Trivy / Grype referrer) is older than the policy allows (`scans.maxAgeDays`, 7 by default), judged by the time the report states (Trivy CreatedAt, Grype descriptor.timestamp, SARIF invocation end time, the attestation\'s scanFinishedOn) or, for a file that states none, its modification time.',
    why: 'New vulnerabilities are published every day: a clean scan from last month says little about today.',
    fix: 'Re-scan the image (same digest) and pass the fresh report; scan on a schedule in CI for released images.',
  },
  run(ctx) {
    const { scans } = applicableScans(ctx, 'VCH-CP-002');
    if (scans.length === 0) return { pass: 'not applicable: no scan report' };
    const max = ctx.policy.scans.maxAgeDays;
    const out: Finding[] = [];
    for (const s of scans) {
      if (!s.scannedAt) {
        out.push({ message: `${s.path}: the report states no scan time` });
        continue;
      }
      const days = (ctx.now.getTime() - Date.parse(s.scannedAt)) / 86_400_000;
      if (days > max) out.push({ message: `${s.path}: scanned ${s.scannedAt}${s.timeFrom === 'file-mtime' ? ' (file modification time)' : ''}, ${Math.floor(days)} days ago (policy allows ${max})` });
    }
    return out.length ? out : { pass: `scan${scans.length === 1 ? '' : 's'} within ${max} days` };
  },
};

export const scanFindings: Check = {
  id: 'VCH-CP-003',
  title: 'Vulnerabilities at or above the threshold',
  step: 'compliance',
  defaultSeverity: 'high',
  help: {
    what: 'Findings in the scan reports (given with `--scan`, or attached as described under VCH-CP-001) at or above the policy\'s `scans.failSeverity` (high by default). Each result carries the finding\'s own severity (Trivy/Grype severity, or SARIF `security-severity` / level) and names the package.',
    why: 'A release with known high or critical vulnerabilities needs a fix or an explicit, dated risk acceptance.',
    fix: 'Upgrade the package (rebuild on a patched base, bump the dependency); if it is not exploitable here, record an exception with the reason and an expiry.',
  },
  run(ctx) {
    const { scans, trusted } = applicableScans(ctx, 'VCH-CP-003', true);
    if (scans.length === 0) return { pass: 'not applicable: no scan report' };
    const threshold = ctx.policy.scans.failSeverity;
    const seen = new Set<string>();
    const out: Finding[] = [];
    for (const s of scans) {
      for (const f of s.findings) {
        if (!atLeast(f.severity, threshold)) continue;
        const key = `${f.id}\0${f.package?.name ?? ''}\0${f.package?.version ?? ''}\0${f.location ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({
          severity: f.severity,
          subject: { package: f.package, path: f.location?.startsWith('/') ? f.location : null },
          message: `${f.id} (${f.rawSeverity})${f.package ? ` in ${f.package.name} ${f.package.version}` : ''}${!f.package && f.location ? ` at ${f.location}` : ''} [${s.scanner}]`,
        });
      }
    }
    if (out.length === 0 && trusted === 0) return { pass: `not applicable: no trusted scan report (unsigned ones searched for findings only: ${scans.map((x) => x.path).join(', ')})` };
    return out;
  },
};

export const DEPENDENCY_CHECKS: Check[] = [noSbom, sbomMismatch, noLockfile, downgrades, copyleftLicences, unknownLicences, contentSwapped];
export const COMPLIANCE_CHECKS: Check[] = [noVulnScan, staleScan, scanFindings];
