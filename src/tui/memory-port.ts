/**
 * FOR COMPONENT TESTS AND THE BENCH ONLY: a SessionPort that keeps annotations
 * in memory. It is not persistent and Approve signs nothing; `vouch review`
 * never uses it (it passes StoreSessionPort, store-port.ts). Its blockers are
 * still the core's approvalBlockers, over a session assembled from the check
 * results it was given, so screens are tested against the real rule.
 */
import type { CheckResult, Severity } from '../core/checks/types.js';
import type { AnnotationSubject as CoreSubject, ReviewSession } from '../core/review/types.js';
import { missingReason } from '../core/review/reason.js';
import { resultId } from './model.js';
import { blockersOf, sessionCheckSubject } from './session-map.js';
import type { Annotation, AnnotationFields, AnnotationSubject, ApproveRequest, ApproveResult, Blocker, Decision, DecisionRecord, SessionPort } from './session-port.js';

export class InMemorySessionPort implements SessionPort {
  private readonly annotations: Annotation[] = [];
  private seq = 0;
  constructor(
    private readonly author: string,
    private readonly results: ReadonlyArray<{ image: string; result: CheckResult }>,
    private readonly failOn: Severity,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async load(): Promise<Annotation[]> {
    return this.annotations.map((a) => ({ ...a, history: [...a.history] }));
  }

  async annotate(subject: AnnotationSubject, fields: AnnotationFields): Promise<Annotation> {
    const why = missingReason(fields.disposition, fields.text);
    if (why) throw new Error(why);
    const a: Annotation = { id: `a${++this.seq}`, subject, ...fields, author: this.author, time: this.now().toISOString(), deleted: false, history: [] };
    this.annotations.push(a);
    return { ...a };
  }

  private find(id: string): Annotation {
    const a = this.annotations.find((x) => x.id === id);
    if (!a) throw new Error(`no annotation ${id}`);
    return a;
  }

  private remember(a: Annotation): void {
    const { disposition, text, author, time, deleted } = a;
    a.history.push({ disposition, text, author, time, deleted, ...(a.severity ? { severity: a.severity } : {}) });
  }

  async edit(id: string, fields: Partial<AnnotationFields>): Promise<Annotation> {
    const a = this.find(id);
    const why = missingReason(fields.disposition ?? a.disposition, fields.text ?? a.text);
    if (why) throw new Error(why);
    this.remember(a);
    Object.assign(a, fields, { author: this.author, time: this.now().toISOString() });
    return { ...a, history: [...a.history] };
  }

  async delete(id: string): Promise<Annotation> {
    const a = this.find(id);
    this.remember(a);
    a.deleted = true;
    a.time = this.now().toISOString();
    return { ...a, history: [...a.history] };
  }

  /** The part of a session approvalBlockers reads, from the results and annotations held here. */
  private session(): ReviewSession {
    const keys = [...new Set(this.results.map((x) => x.image))];
    const toCore = (s: AnnotationSubject): CoreSubject => {
      // Check results, and the exact file/package/layer a result names, are what the rule reads.
      if (s.kind === 'path') return { kind: 'path', image: s.image, path: s.value };
      if (s.kind === 'package') return { kind: 'package', image: s.image, purl: s.value };
      if (s.kind === 'layer') return { kind: 'layer', image: s.image, digest: s.value };
      if (s.kind !== 'check') return { kind: 'image', image: s.image };
      const hit = this.results.find((x) => x.image === s.image && resultId(x.result) === s.value);
      return { kind: 'check', image: s.image, ...(hit ? sessionCheckSubject(hit.result) : { check: s.value, subject: s.value }) };
    };
    return {
      policy: { path: null, digest: '', failOn: this.failOn },
      images: keys.map((key) => ({
        key,
        checks: {
          results: this.results
            .filter((x) => x.image === key && x.result.status !== 'pass')
            .map(({ result: r }) => ({ id: r.id, severity: r.severity, status: r.status as 'fail' | 'excepted', subject: sessionCheckSubject(r).subject, message: r.message })),
        },
      })),
      annotations: this.annotations.map((a) => ({ id: a.id, subject: toCore(a.subject), createdAt: a.time, disposition: a.disposition, severity: a.severity ?? null, text: a.text, author: a.author, at: a.time, deleted: a.deleted, history: [] })),
    } as unknown as ReviewSession;
  }

  async blockers(decision: Decision): Promise<Blocker[]> {
    return blockersOf(this.session(), decision);
  }

  async approve(req: ApproveRequest): Promise<ApproveResult> {
    const blockers = await this.blockers(req.decision);
    if (blockers.length) return { ok: false, path: null, message: `refused: ${blockers.length} blocker${blockers.length === 1 ? '' : 's'}`, blockers };
    this.last = { decision: req.decision, reviewer: this.author, path: null, verified: false };
    return { ok: true, path: null, message: `decision "${req.decision}" kept in memory only (test port: nothing signed)`, blockers: [] };
  }

  /** Tests may set it to stand for a record found beside the session. */
  last: DecisionRecord | null = null;

  async lastDecision(): Promise<DecisionRecord | null> {
    return this.last;
  }
}
