/**
 * The check registry: every check vouch runs, in a stable order (step, then id).
 *
 * Adding checks (e.g. the content scanners' `VCH-SC-…` / `VCH-CF-…` checks,
 * which read `ctx.facts`): append them to BUILTIN_CHECKS below (one import and
 * one spread), or register them on a registry instance at run time
 * (`defaultRegistry().register(...myChecks)`). Ids must be unique and match
 * `VCH-XX-NNN`; docs/checks.md is generated from the registry
 * (`npx tsx scripts/gen-checks-doc.ts`), and a test fails when it is stale.
 */
import { ANALYSIS_CHECKS } from './builtin/analysis.js';
import { DEPENDENCY_CHECKS, COMPLIANCE_CHECKS } from './builtin/dependencies.js';
import { HYGIENE_CHECKS } from './builtin/hygiene.js';
import { LEAST_PRIVILEGE_CHECKS } from './builtin/least-privilege.js';
import { TRACE_CHECKS } from './builtin/trace.js';
import { isSeverity, STEPS, type Check } from './types.js';
import { CONTENT_CHECKS } from './content/index.js';

export const BUILTIN_CHECKS: readonly Check[] = [...TRACE_CHECKS, ...LEAST_PRIVILEGE_CHECKS, ...CONTENT_CHECKS, ...HYGIENE_CHECKS, ...DEPENDENCY_CHECKS, ...COMPLIANCE_CHECKS, ...ANALYSIS_CHECKS];

const ID = /^VCH-[A-Z]{2}-\d{3}$/;

export class CheckRegistry {
  private readonly checks = new Map<string, Check>();

  constructor(checks: Iterable<Check> = []) {
    this.register(...checks);
  }

  register(...checks: Check[]): this {
    for (const c of checks) {
      if (!ID.test(c.id)) throw new Error(`check id ${JSON.stringify(c.id)} does not match VCH-XX-NNN`);
      if (this.checks.has(c.id)) throw new Error(`check ${c.id} is registered twice`);
      if (!(STEPS as readonly string[]).includes(c.step)) throw new Error(`check ${c.id}: unknown step ${JSON.stringify(c.step)}`);
      if (!isSeverity(c.defaultSeverity)) throw new Error(`check ${c.id}: unknown severity ${JSON.stringify(c.defaultSeverity)}`);
      this.checks.set(c.id, c);
    }
    return this;
  }

  get(id: string): Check | undefined {
    return this.checks.get(id);
  }

  ids(): ReadonlySet<string> {
    return new Set(this.checks.keys());
  }

  /** Every check, ordered by review step then id. */
  all(): Check[] {
    return [...this.checks.values()].sort((a, b) => STEPS.indexOf(a.step) - STEPS.indexOf(b.step) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/** A fresh registry holding the built-in checks. */
export function defaultRegistry(): CheckRegistry {
  return new CheckRegistry(BUILTIN_CHECKS);
}
