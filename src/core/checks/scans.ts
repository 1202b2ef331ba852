/**
 * Vulnerability scan reports given with `--scan FILE`: Trivy JSON (schema 2),
 * Grype JSON, SARIF 2.1.0 (any scanner: Trivy, Grype, Snyk…), and a cosign
 * vulnerability attestation statement (predicate
 * https://cosign.sigstore.dev/attestation/vuln/v1) whose scanner result is one
 * of those. Each is reduced to when the scan ran, which image it names (when
 * it says) and its findings with a normalised severity.
 *
 * Untrusted input: size-bounded, malformed documents are VouchErrors (exit 2)
 * naming the file and field.
 */
import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';
import { VouchError } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import type { Severity } from './types.js';

export const COSIGN_VULN_PREDICATE = 'https://cosign.sigstore.dev/attestation/vuln/v1';
export const SCAN_MAX_BYTES = 256 * 1024 * 1024;

export type ScanFormat = 'trivy-json' | 'grype-json' | 'sarif' | 'cosign-vuln';

export interface ScanFinding {
  /** CVE / GHSA / rule id. */
  id: string;
  severity: Severity;
  /** The scanner's own word for the severity ("HIGH", "Negligible", "error", "8.1"). */
  rawSeverity: string;
  package: { name: string; version: string; type: string; purl: string } | null;
  /** Where the scanner says it is (a file path or target), when it says. */
  location: string | null;
}

export interface ScanReport {
  /** The file as given. */
  path: string;
  format: ScanFormat;
  scanner: string;
  /** ISO 8601, when the document says (else the file's modification time, `timeFrom` says which). */
  scannedAt: string | null;
  timeFrom: 'document' | 'file-mtime' | 'none';
  /** What the scan says it scanned: digests (manifest, image ID / config, repo digests) it names. */
  subjects: string[];
  /** Human name of what was scanned ("ArtifactName", grype userInput). */
  target: string | null;
  findings: ScanFinding[];
}

function bad(path: string, msg: string): never {
  throw new VouchError('UNSUPPORTED_FORMAT', `${path}: ${sanitizeLine(msg)}`);
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const obj = (v: unknown): Record<string, unknown> | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Trivy / Grype / generic words → our scale. Negligible and unknown map to info. */
export function normaliseSeverity(raw: string): Severity {
  const s = raw.trim().toLowerCase();
  if (s === 'critical') return 'critical';
  if (s === 'high' || s === 'error' || s === 'important') return 'high';
  if (s === 'medium' || s === 'moderate' || s === 'warning') return 'medium';
  if (s === 'low' || s === 'note') return 'low';
  const n = Number(s);
  if (s !== '' && Number.isFinite(n)) return cvssSeverity(n);
  return 'info';
}

/** CVSS v3 qualitative ratings (GitHub's security-severity uses the same bands). */
export function cvssSeverity(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'info';
}

function isoOrNull(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  // A date-time without a zone would be read in the local time zone: scanners mean UTC.
  const zoneless = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s);
  const t = Date.parse(zoneless ? `${s.replace(' ', 'T')}Z` : s);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

function purlType(purl: string | null): string {
  const m = purl ? /^pkg:([a-z0-9.+-]+)\//i.exec(purl) : null;
  return m ? m[1]!.toLowerCase() : 'unknown';
}

function readTrivy(doc: Record<string, unknown>, path: string): Omit<ScanReport, 'path' | 'timeFrom'> {
  const meta = obj(doc.Metadata) ?? {};
  const subjects = [str(meta.ImageID), ...arr(meta.RepoDigests).map((d) => str(d)?.replace(/^.*@/, '') ?? null), ...arr(meta.RepoDigests).map(str)].filter((x): x is string => x !== null);
  const findings: ScanFinding[] = [];
  for (const [ri, r] of arr(doc.Results).entries()) {
    const res = obj(r);
    if (!res) bad(path, `Results.${ri}: not an object`);
    for (const [vi, v] of arr(res.Vulnerabilities).entries()) {
      const x = obj(v);
      const id = x ? str(x.VulnerabilityID) : null;
      if (!x || !id) bad(path, `Results.${ri}.Vulnerabilities.${vi}: no VulnerabilityID`);
      const raw = str(x.Severity) ?? 'UNKNOWN';
      const purl = str(obj(x.PkgIdentifier)?.PURL) ?? '';
      const name = str(x.PkgName);
      findings.push({
        id,
        severity: normaliseSeverity(raw),
        rawSeverity: raw,
        package: name ? { name, version: str(x.InstalledVersion) ?? '', type: purl ? purlType(purl) : (str(res.Type) ?? 'unknown'), purl } : null,
        location: str(x.PkgPath) ?? str(res.Target),
      });
    }
  }
  return { format: 'trivy-json', scanner: 'trivy', scannedAt: isoOrNull(doc.CreatedAt), subjects, target: str(doc.ArtifactName), findings };
}

function readGrype(doc: Record<string, unknown>, path: string): Omit<ScanReport, 'path' | 'timeFrom'> {
  const desc = obj(doc.descriptor) ?? {};
  const target = obj(obj(doc.source)?.target) ?? {};
  const subjects = [str(target.imageID), str(target.manifestDigest), ...arr(target.repoDigests).map((d) => str(d)?.replace(/^.*@/, '') ?? null), ...arr(target.repoDigests).map(str)].filter(
    (x): x is string => x !== null,
  );
  const findings: ScanFinding[] = [];
  for (const [i, m] of arr(doc.matches).entries()) {
    const x = obj(m);
    const v = obj(x?.vulnerability);
    const id = v ? str(v.id) : null;
    if (!x || !v || !id) bad(path, `matches.${i}: no vulnerability.id`);
    const a = obj(x.artifact);
    const raw = str(v.severity) ?? 'Unknown';
    const purl = str(a?.purl) ?? '';
    const name = str(a?.name);
    const loc = obj(arr(a?.locations)[0]);
    findings.push({
      id,
      severity: normaliseSeverity(raw),
      rawSeverity: raw,
      package: name ? { name, version: str(a?.version) ?? '', type: str(a?.type) ?? purlType(purl), purl } : null,
      location: str(loc?.path),
    });
  }
  return {
    format: 'grype-json',
    scanner: `grype${str(desc.version) ? ` ${str(desc.version)}` : ''}`,
    scannedAt: isoOrNull(desc.timestamp),
    subjects,
    target: str(target.userInput) ?? (typeof obj(doc.source)?.target === 'string' ? (obj(doc.source)!.target as string) : null),
    findings,
  };
}

/** Scanners whose SARIF reports vulnerabilities (by their driver name). */
const VULN_SCANNERS = /^(trivy|grype|snyk|docker scout|scout|clair|anchore|osv-scanner|dependency-check|jfrog|xray|neuvector|prisma|twistlock|wiz|aqua|qualys|sysdig|mend|whitesource|dependabot)/i;
/** Vulnerability ids: CVE, GHSA and the OSV/distro advisory families. */
const VULN_ID = /^(CVE-\d{4}-\d+|GHSA-|PYSEC-|RUSTSEC-|GO-\d{4}-|OSV-|GSD-|ALAS|ALSA-|DSA-|DLA-|RHSA-|USN-|ELSA-|SUSE-|SNYK-|MAL-)/i;

/**
 * A SARIF given as a vulnerability scan must come from a tool that reports
 * vulnerabilities: any SARIF (a linter's, vouch's own check results) would
 * otherwise satisfy the "a scan was run" checks.
 */
function refuseNonVulnerabilitySarif(tool: string, rules: Map<string, Record<string, unknown>>, results: unknown[], path: string, ri: number): void {
  if (/^vouch$/i.test(tool)) bad(path, `runs.${ri}: this is vouch's own check report (tool "vouch"), not a vulnerability scan; give a Trivy, Grype or other vulnerability scanner's report`);
  if (VULN_SCANNERS.test(tool)) return;
  if ([...rules.keys()].some((id) => VULN_ID.test(id))) return;
  if (results.some((r) => VULN_ID.test(str(obj(r)?.ruleId) ?? ''))) return;
  bad(path, `runs.${ri}: ${JSON.stringify(tool.slice(0, 80))} is not a known vulnerability scanner and reports no CVE, GHSA or OSV ids: not a vulnerability scan`);
}

function readSarif(doc: Record<string, unknown>, path: string): Omit<ScanReport, 'path' | 'timeFrom'> {
  const findings: ScanFinding[] = [];
  const scanners: string[] = [];
  const times: string[] = [];
  const subjects: string[] = [];
  let target: string | null = null;
  for (const [ri, r] of arr(doc.runs).entries()) {
    const run = obj(r);
    if (!run) bad(path, `runs.${ri}: not an object`);
    const driver = obj(obj(run.tool)?.driver);
    const name = str(driver?.name);
    if (!driver || !name) bad(path, `runs.${ri}.tool.driver.name: missing`);
    scanners.push(name);
    const rules = new Map<string, Record<string, unknown>>();
    for (const rule of arr(driver.rules)) {
      const o = obj(rule);
      const id = o ? str(o.id) : null;
      if (o && id) rules.set(id, o);
    }
    refuseNonVulnerabilitySarif(name, rules, arr(run.results), path, ri);
    for (const inv of arr(run.invocations)) {
      const t = isoOrNull(obj(inv)?.endTimeUtc) ?? isoOrNull(obj(inv)?.startTimeUtc);
      if (t) times.push(t);
    }
    const props = obj(run.properties) ?? {};
    for (const d of [str(props.imageID), ...arr(props.repoDigests).map((x) => str(x)?.replace(/^.*@/, '') ?? null)]) if (d) subjects.push(d);
    target ??= str(props.imageName);
    for (const [i, res] of arr(run.results).entries()) {
      const x = obj(res);
      if (!x) bad(path, `runs.${ri}.results.${i}: not an object`);
      if (x.kind !== undefined && x.kind !== 'fail') continue;
      if (arr(x.suppressions).length > 0) continue;
      const ruleIndex = typeof x.ruleIndex === 'number' ? x.ruleIndex : -1;
      const id = str(x.ruleId) ?? str(obj(arr(driver.rules)[ruleIndex])?.id) ?? `result-${i}`;
      const rule = rules.get(id) ?? obj(arr(driver.rules)[ruleIndex]) ?? {};
      const secSev = str(obj(rule.properties)?.['security-severity']) ?? str(obj(x.properties)?.['security-severity']);
      const level = str(x.level) ?? str(obj(rule.defaultConfiguration)?.level) ?? 'warning';
      const raw = secSev ?? level;
      const loc = str(obj(obj(obj(arr(x.locations)[0])?.physicalLocation)?.artifactLocation)?.uri);
      findings.push({ id, severity: secSev ? cvssSeverity(Number(secSev)) : normaliseSeverity(level), rawSeverity: raw, package: null, location: loc });
    }
  }
  return { format: 'sarif', scanner: [...new Set(scanners)].join(', '), scannedAt: times.sort().at(-1) ?? null, subjects, target, findings };
}

/** Identify and read a scan document already parsed from JSON. */
export function readScanDocument(doc: unknown, path: string): Omit<ScanReport, 'path' | 'timeFrom'> {
  const d = obj(doc);
  if (!d) bad(path, 'not a JSON object: expected a Trivy JSON, Grype JSON or SARIF report');
  if (d.predicateType === COSIGN_VULN_PREDICATE || (obj(d.predicate) && obj(obj(d.predicate)!.scanner))) {
    const p = obj(d.predicate);
    const scanner = obj(p?.scanner);
    if (!p || !scanner) bad(path, 'predicate.scanner: missing in the cosign vulnerability attestation');
    const inner = scanner.result !== undefined && scanner.result !== null ? readScanDocument(scanner.result, `${path} (predicate.scanner.result)`) : null;
    const meta = obj(p.metadata) ?? {};
    const subjects = arr(d.subject).flatMap((s) => {
      const h = str(obj(obj(s)?.digest)?.sha256);
      return h ? [`sha256:${h}`] : [];
    });
    return {
      format: 'cosign-vuln',
      scanner: str(scanner.uri) ?? inner?.scanner ?? 'unknown',
      scannedAt: isoOrNull(meta.scanFinishedOn) ?? isoOrNull(meta.scanStartedOn) ?? inner?.scannedAt ?? null,
      subjects: [...subjects, ...(inner?.subjects ?? [])],
      target: inner?.target ?? null,
      findings: inner?.findings ?? [],
    };
  }
  if (typeof d.version === 'string' && Array.isArray(d.runs)) {
    if (d.version !== '2.1.0') bad(path, `SARIF version ${JSON.stringify(d.version)} is not supported (2.1.0 is)`);
    return readSarif(d, path);
  }
  if (d.SchemaVersion !== undefined && (d.ArtifactName !== undefined || d.Results !== undefined)) {
    if (d.SchemaVersion !== 2) bad(path, `Trivy JSON SchemaVersion ${JSON.stringify(d.SchemaVersion)} is not supported (2 is)`);
    return readTrivy(d, path);
  }
  if (Array.isArray(d.matches) && obj(d.descriptor)) return readGrype(d, path);
  bad(path, 'not a recognised scan report: expected Trivy JSON (SchemaVersion 2), Grype JSON (matches + descriptor), SARIF 2.1.0, or a cosign vuln attestation');
}

/** Read a scan report from its bytes; `mtime` is used when the document states no time. */
export function parseScan(bytes: Uint8Array | string, path: string, mtime?: Date): ScanReport {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    bad(path, `not valid JSON: ${(e as Error).message}`);
  }
  const r = readScanDocument(doc, path);
  if (r.scannedAt) return { ...r, path, timeFrom: 'document' };
  if (mtime) return { ...r, path, scannedAt: mtime.toISOString(), timeFrom: 'file-mtime' };
  return { ...r, path, timeFrom: 'none' };
}

export async function readScanFile(path: string, maxBytes = SCAN_MAX_BYTES): Promise<ScanReport> {
  let fh;
  try {
    // Non-blocking: a FIFO must not hang the open (the type is checked on the descriptor below).
    fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    throw new VouchError('NOT_FOUND', `${path}: cannot open scan report (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new VouchError('USAGE', `${path}: not a regular file`);
    if (st.size > maxBytes) throw new VouchError('LIMIT_EXCEEDED', `${path}: scan report is ${st.size} bytes, above the ${maxBytes}-byte limit`);
    const buf = await fh.readFile();
    if (buf.length > maxBytes) throw new VouchError('LIMIT_EXCEEDED', `${path}: scan report above the ${maxBytes}-byte limit`);
    return parseScan(buf, path, st.mtime);
  } finally {
    await fh.close();
  }
}

/** Whether a scan names this image: 'match', 'mismatch' (it names other digests only), or 'unknown' (it names none). */
export function scanMatchesImage(scan: ScanReport, digests: readonly string[]): 'match' | 'mismatch' | 'unknown' {
  const subjects = scan.subjects.filter((s) => /^sha256:[0-9a-f]{64}$/.test(s) || /@sha256:[0-9a-f]{64}$/.test(s)).map((s) => s.replace(/^.*@/, ''));
  if (subjects.length === 0) return 'unknown';
  return subjects.some((s) => digests.includes(s)) ? 'match' : 'mismatch';
}
