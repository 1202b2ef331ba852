/** Traceability and provenance: from the image's annotations/labels and the verified chain report. */
import type { ChainSignature } from '../../trust/chain.js';
import type { TracedField } from '../../trust/traceability-chain.js';
import type { Check, CheckContext, Finding, SignatureSubject } from '../types.js';

function repository(ctx: CheckContext): string | null {
  return ctx.chain?.json.traceability.repository.value ?? ctx.analysis.traceability.repository;
}
function revision(ctx: CheckContext): string | null {
  return ctx.chain?.json.traceability.revision.value ?? ctx.analysis.traceability.revision;
}

export const noSourceRepository: Check = {
  id: 'VCH-TR-001',
  title: 'No source repository',
  step: 'traceability',
  defaultSeverity: 'medium',
  help: {
    what: 'Neither the image (annotation or label `org.opencontainers.image.source`), nor a verified SLSA provenance, nor a Fulcio signing certificate names the source repository.',
    why: 'Without it a reviewer cannot link the image to the code it was built from, and an approval cannot say what was reviewed.',
    fix: 'Set the annotation at build time (`docker buildx build --annotation org.opencontainers.image.source=https://…` or `LABEL org.opencontainers.image.source=…`), or attach SLSA provenance (`--provenance=mode=max`).',
  },
  run(ctx) {
    const r = repository(ctx);
    return r ? { pass: `source repository ${r}` } : [{ message: 'no source repository: no org.opencontainers.image.source annotation or label, no provenance, no certificate names one' }];
  },
};

export const noRevision: Check = {
  id: 'VCH-TR-002',
  title: 'No source revision',
  step: 'traceability',
  defaultSeverity: 'medium',
  help: {
    what: 'Nothing names the commit the image was built from (`org.opencontainers.image.revision`, provenance, certificate).',
    why: 'A repository without a revision does not say which code is in the image: every later commit could be it.',
    fix: 'Set `org.opencontainers.image.revision` to the full commit id at build time (`--annotation org.opencontainers.image.revision=$GITHUB_SHA`), or attach SLSA provenance.',
  },
  run(ctx) {
    const r = revision(ctx);
    return r ? { pass: `source revision ${r}` } : [{ message: 'no source revision: no org.opencontainers.image.revision annotation or label, no provenance, no certificate names one' }];
  },
};

function describeSources(f: TracedField): string {
  return f.sources.map((s) => `${s.from} says ${JSON.stringify(s.value)}`).join(', ');
}

export const traceDisagreement: Check = {
  id: 'VCH-TR-003',
  title: 'Provenance and annotations disagree',
  step: 'traceability',
  defaultSeverity: 'high',
  help: {
    what: 'The places that name the source repository, revision or build run (manifest and index annotations, config labels, verified SLSA provenance, Fulcio certificate extensions) do not all say the same (repository URLs compared normalised: case, `.git`, `git+`, trailing slash).',
    why: 'Either the annotations lie or the provenance describes another build: the image cannot be traced with confidence, and a mismatch is a classic sign of a substituted image.',
    fix: 'Set the annotations from the same CI variables the provenance uses, rebuild, and find out why they differed before approving.',
  },
  run(ctx) {
    const out: Finding[] = [];
    if (ctx.chain) {
      const t = ctx.chain.json.traceability;
      for (const k of ['repository', 'revision', 'run'] as const) {
        if (!t[k].consistent) out.push({ message: `the ${k} sources disagree: ${describeSources(t[k])}` });
      }
      return out;
    }
    const t = ctx.analysis.traceability;
    for (const key of t.conflicts) {
      out.push({ message: `${key} disagrees: ${(t.evidence[key] ?? []).map((e) => `${e.from} says ${JSON.stringify(e.value)}`).join(', ')}` });
    }
    return out;
  },
};

export const baseUnknown: Check = {
  id: 'VCH-TR-004',
  title: 'Base image unknown',
  step: 'traceability',
  defaultSeverity: 'low',
  help: {
    what: 'The image does not name its base image (`org.opencontainers.image.base.name` / `.base.digest` annotations or labels).',
    why: 'Without it, nobody can tell which upstream image (and which of its vulnerabilities and updates) the release inherits.',
    fix: 'Build with BuildKit and `--annotation`/`LABEL org.opencontainers.image.base.name=<ref>` and `org.opencontainers.image.base.digest=<digest>` (buildx sets them with `--provenance`/image annotations).',
  },
  run(ctx) {
    const t = ctx.analysis.traceability;
    if (t.baseName || t.baseDigest) return { pass: `base image ${t.baseName ?? ''}${t.baseDigest ? `@${t.baseDigest}` : ''}` };
    return [{ message: 'the base image is not named (no org.opencontainers.image.base.name or base.digest)' }];
  },
};

export const baseUnpinned: Check = {
  id: 'VCH-TR-005',
  title: 'Base image not pinned by digest',
  step: 'dependency-control',
  defaultSeverity: 'medium',
  help: {
    what: 'The image names its base (`org.opencontainers.image.base.name`) but no digest (`base.digest`, or `@sha256:` in the name).',
    why: 'A tag moves: the same Dockerfile builds on a different base tomorrow, so the release cannot be reproduced and the base cannot be reviewed once.',
    fix: 'Pin the base in the Dockerfile (`FROM debian:12@sha256:…`, kept fresh by Renovate/Dependabot) and record it in `org.opencontainers.image.base.digest`.',
  },
  run(ctx) {
    const t = ctx.analysis.traceability;
    if (!t.baseName) return { pass: t.baseDigest ? `base image pinned at ${t.baseDigest}` : 'not applicable: the base image is not named (VCH-TR-004)' };
    if (t.baseDigest || /@sha256:[0-9a-f]{64}$/.test(t.baseName)) return { pass: `base image ${t.baseName} is pinned` };
    return [{ message: `the base image ${JSON.stringify(t.baseName)} is named without a digest` }];
  },
};

function signatureSubject(s: ChainSignature, i: number): SignatureSubject {
  return { kind: s.kind, index: i + 1, keyId: s.signer?.keyId ?? null, identity: s.signer?.subject ?? null, issuer: s.signer?.issuer ?? null, reason: s.reason };
}

export const unsigned: Check = {
  id: 'VCH-PV-001',
  title: 'Image not signed',
  step: 'provenance',
  defaultSeverity: 'high',
  help: {
    what: 'No signature is attached to the image: no cosign `.sig` tag, no Sigstore bundle referrer, nothing in a `cosign save` layout. (Daemon images carry no attachments: check the registry reference.)',
    why: 'Without a signature nothing proves who produced the image or that it is the one CI built; anyone with push access could have replaced it.',
    fix: 'Sign in CI after the push: `cosign sign --yes <image>@<digest>` (keyless with the CI identity) or with a key, and list the signer in vouch.trust.yaml.',
  },
  run(ctx) {
    const n = ctx.chain?.json.signatures.length ?? 0;
    if (n > 0) return { pass: `${n} signature${n === 1 ? '' : 's'} attached` };
    return [{ message: ctx.chain ? 'no signature is attached to the image' : 'no signature found: attachments cannot be discovered for this source (use the registry or layout reference)' }];
  },
};

export const untrustedSigners: Check = {
  id: 'VCH-PV-002',
  title: 'No signature verifies against a trusted signer',
  step: 'provenance',
  defaultSeverity: 'high',
  help: {
    what: 'The image has signatures, but none verifies against a signer in the trust file (vouch.trust.yaml): each is reported with its signer and reason (UNTRUSTED_SIGNER, SIGNATURE_INVALID, TLOG_MISSING…).',
    why: 'A signature by an unknown key or identity proves nothing about origin: anyone can sign anything.',
    fix: 'Check who signed (`vouch chain`); if the signer is legitimate, add it to vouch.trust.yaml (`signers: [{name, key}]` or `{name, keyless: {issuer, subject}}`); otherwise do not approve.',
  },
  run(ctx) {
    const sigs = ctx.chain?.json.signatures ?? [];
    if (sigs.length === 0) return { pass: 'not applicable: no signature (VCH-PV-001)' };
    const index = ctx.chain?.json.index;
    if (index && !index.satisfied) {
      // An index passes on its own signature or on every platform's: one signed manifest among unsigned ones is how an attacker's index gets in.
      const unsigned = index.platforms.filter((p) => p.checked && !p.signed);
      return [{ message: `PLATFORM_UNSIGNED: the index ${index.digest.slice(0, 19)} is not signed by a trusted signer and ${unsigned.length ? unsigned.map((p) => `${p.platform} (${p.digest.slice(0, 19)})`).join(', ') : 'not every platform'} has no trusted signature` }];
    }
    if (sigs.some((s) => s.verified)) return { pass: `verified by ${[...new Set(sigs.filter((s) => s.verified).map((s) => s.signer?.trustedAs ?? 'a trusted signer'))].join(', ')}` };
    return sigs.map((s, i) => ({
      subject: { signature: signatureSubject(s, i) },
      message: `${s.kind} signature ${i + 1} does not verify against a trusted signer: ${s.reason}${s.signer ? ` (signed by ${s.signer.type === 'key' ? `key ${s.signer.keyId?.slice(0, 16) ?? '?'}` : `${s.signer.subject ?? '?'} from ${s.signer.issuer ?? '?'}`})` : ''}`,
    }));
  },
};

export const noProvenance: Check = {
  id: 'VCH-PV-003',
  title: 'No verified provenance',
  step: 'provenance',
  defaultSeverity: 'medium',
  help: {
    what: 'No SLSA provenance attestation attached to the image verifies against a trusted signer.',
    why: 'Provenance says which builder built the image from which source and how; without a verified one the build is a black box.',
    fix: 'Generate SLSA provenance in CI (GitHub `actions/attest-build-provenance`, `docker buildx build --provenance=mode=max` then `cosign attest --type slsaprovenance`) signed by a trusted identity.',
  },
  run(ctx) {
    const p = ctx.chain?.json.provenance;
    if (p) return { pass: `provenance from ${p.builder ?? 'an unnamed builder'}` };
    const slsa = (ctx.chain?.json.attestations ?? []).filter((a) => !a.verified && /slsa\.dev\/provenance/.test(a.predicateType ?? ''));
    // An attestation about another digest attached to this image is a substitution signal, not a signer problem: say so.
    const substituted = slsa.filter((a) => a.reason === 'SUBJECT_MISMATCH');
    if (substituted.length > 0) {
      return [{ message: `SUBJECT_MISMATCH: ${substituted.length} SLSA provenance attestation${substituted.length === 1 ? ' is' : 's are'} about another image digest, attached to this one (a substitution: the provenance of another build offered for this image)` }];
    }
    const unverified = slsa.length;
    return [{ message: unverified > 0 ? `no verified provenance: ${unverified} SLSA provenance attestation${unverified === 1 ? '' : 's'} attached but not verified against a trusted signer` : 'no SLSA provenance is attached' }];
  },
};

export const TRACE_CHECKS: Check[] = [noSourceRepository, noRevision, traceDisagreement, baseUnknown, baseUnpinned, unsigned, untrustedSigners, noProvenance];
