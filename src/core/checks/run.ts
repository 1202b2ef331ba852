/**
 * The runner: every enabled check over one context, findings turned into
 * results (subject completed, severity from the policy), exceptions applied
 * (an expired one no longer applies and the result says so), and one pass
 * result for each check that found nothing.
 */
import { sanitizeLine } from '../util/sanitize.js';
import type { PolicyException, ResolvedPolicy } from './policy.js';
import { atLeast, type AppliedException, type Check, type CheckContext, type CheckResult, type Finding, type Severity, type Subject } from './types.js';

/**
 * The string an exception's `subject` is matched against: the path; else
 * `env:NAME`; else `package:<purl>` (or `package:type/name@version`); else
 * `signature:<key id, identity, or kind#n>`; else `layer:<digest>` / `history:<line>`;
 * else `image`.
 */
export function subjectKey(s: Subject): string {
  if (s.path) return s.path;
  if (s.env) return `env:${s.env}`;
  if (s.package) return `package:${s.package.purl || `${s.package.type}/${s.package.name}@${s.package.version}`}`;
  if (s.signature) return `signature:${s.signature.keyId ?? s.signature.identity ?? `${s.signature.kind}#${s.signature.index}`}`;
  if (s.layer) return s.layer.digest ? `layer:${s.layer.digest}` : `history:${s.layer.createdBy ?? ''}`;
  return 'image';
}

const wildcardCache = new Map<string, RegExp>();
/** Exception patterns: `*` matches any run of characters (slashes included); everything else is literal. */
export function wildcard(pattern: string): RegExp {
  let re = wildcardCache.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    wildcardCache.set(pattern, re);
  }
  return re;
}

/** The end of an exception's last day (UTC). */
export function exceptionExpired(x: PolicyException, now: Date): boolean {
  return now.getTime() > Date.parse(`${x.expires}T23:59:59.999Z`);
}

/** The matching exception: a live one first, else an expired one (so the result can say it expired). */
function findException(policy: ResolvedPolicy, id: string, subject: Subject, now: Date): PolicyException | undefined {
  const key = subjectKey(subject);
  let expired: PolicyException | undefined;
  for (const x of policy.exceptions) {
    if (x.check !== id) continue;
    if (x.image && !wildcard(x.image).test(subject.image)) continue;
    if (!wildcard(x.subject).test(key)) continue;
    if (!exceptionExpired(x, now)) return x;
    expired ??= x;
  }
  return expired;
}

export interface RunOptions {
  /** Called with each check's wall time in milliseconds (the bench uses it). */
  onTiming?: (id: string, ms: number) => void;
}

/** Run the checks over one image's context. */
export function runChecks(ctx: CheckContext, checks: readonly Check[], opts: RunOptions = {}): CheckResult[] {
  const results: CheckResult[] = [];
  const policy = ctx.policy;
  for (const check of checks) {
    const conf = policy.checks[check.id];
    if (conf?.enabled === false) continue;
    const t0 = performance.now();
    let output;
    try {
      output = check.run(ctx);
    } catch (e) {
      // A broken check must not pass silently.
      output = [{ message: `the check could not run: ${(e as Error).message ?? String(e)}` } satisfies Finding];
    }
    opts.onTiming?.(check.id, performance.now() - t0);
    const base = (): Subject => ({ image: ctx.image.label, layer: null, path: null, env: null, package: null, signature: null });
    if (!Array.isArray(output) || output.length === 0) {
      results.push({
        id: check.id,
        step: check.step,
        severity: conf?.severity ?? check.defaultSeverity,
        status: 'pass',
        subject: base(),
        message: sanitizeLine(Array.isArray(output) ? 'no finding' : output.pass),
        exception: null,
      });
      continue;
    }
    for (const f of output) {
      const subject: Subject = { ...base(), ...(f.subject ?? {}), image: ctx.image.label };
      const severity: Severity = conf?.severity ?? f.severity ?? check.defaultSeverity;
      let status: CheckResult['status'] = 'fail';
      let message = sanitizeLine(f.message);
      let exception: AppliedException | null = null;
      const x = findException(policy, check.id, subject, ctx.now);
      if (x) {
        const expired = exceptionExpired(x, ctx.now);
        exception = { check: x.check, subject: x.subject, reason: sanitizeLine(x.reason), expires: x.expires, expired };
        if (expired) message += ` (exception expired on ${x.expires}: no longer applies)`;
        else status = 'excepted';
      }
      results.push({ id: check.id, step: check.step, severity, status, subject, message, exception });
    }
  }
  return results;
}

/** True when a failing result is at or above the threshold (exit 1). */
export function failsAt(results: readonly CheckResult[], threshold: Severity): boolean {
  return results.some((r) => r.status === 'fail' && atLeast(r.severity, threshold));
}
