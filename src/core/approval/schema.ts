/**
 * JSON Schema of the approval statement (predicate type
 * https://vouch.dev/approval/v1). The same document is in the repository as
 * schemas/approval.v1.json (a test keeps them equal) for other tools.
 */
import { checkSchema, type SchemaError } from '../util/schema-check.js';

const DIGEST = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;
const STR = { type: 'string' } as const;
const NSTR = { type: ['string', 'null'] } as const;
const RELEASE = { type: 'object', additionalProperties: false, required: ['name', 'version'], properties: { name: STR, version: STR } } as const;

export const APPROVAL_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://vouch.dev/schemas/approval.v1.json',
  title: 'vouch approval: in-toto Statement v1 with predicate https://vouch.dev/approval/v1',
  type: 'object',
  additionalProperties: false,
  required: ['_type', 'subject', 'predicateType', 'predicate'],
  properties: {
    _type: { const: 'https://in-toto.io/Statement/v1' },
    subject: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'digest'],
        properties: { name: STR, digest: { type: 'object', additionalProperties: false, required: ['sha256'], properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } } } },
      },
    },
    predicateType: { const: 'https://vouch.dev/approval/v1' },
    predicate: {
      type: 'object',
      additionalProperties: false,
      required: ['release', 'decision', 'rationale', 'reviewer', 'reviewedAt', 'policy', 'trust', 'baseline', 'images', 'evidence', 'checks', 'findings', 'tool'],
      properties: {
        release: RELEASE,
        decision: { enum: ['approved', 'approved-with-exceptions', 'rejected'] },
        rationale: STR,
        reviewer: { type: 'object', additionalProperties: false, required: ['name', 'identity'], properties: { name: STR, identity: STR } },
        reviewedAt: { type: 'string', format: 'date-time' },
        expiresAt: { type: 'string', format: 'date-time' },
        policy: { type: 'object', additionalProperties: false, required: ['digest', 'failOn'], properties: { digest: DIGEST, failOn: STR } },
        trust: { type: 'object', additionalProperties: false, required: ['digest'], properties: { digest: DIGEST, signers: { type: 'array', uniqueItems: true, items: DIGEST } } },
        baseline: {
          anyOf: [{ type: 'null' }, { type: 'object', additionalProperties: false, required: ['digest', 'release'], properties: { digest: DIGEST, release: { anyOf: [{ type: 'null' }, RELEASE] }, decision: STR, identity: STR } }],
        },
        images: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['key', 'name', 'digest', 'index', 'platform', 'packages', 'licenses'],
            properties: {
              key: STR,
              name: STR,
              digest: DIGEST,
              index: { anyOf: [{ type: 'null' }, DIGEST] },
              indexCovered: { type: 'boolean' },
              platform: STR,
              packages: { type: 'array', items: STR },
              licenses: { type: 'object', additionalProperties: { type: 'array', items: STR } },
            },
          },
        },
        evidence: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['image', 'kind', 'digest', 'type', 'verified', 'signer'],
            properties: { image: STR, kind: STR, digest: STR, type: NSTR, verified: { type: 'boolean' }, signer: NSTR },
          },
        },
        checks: {
          type: 'object',
          additionalProperties: false,
          required: ['total', 'pass', 'fail', 'excepted'],
          properties: { total: { type: 'integer', minimum: 0 }, pass: { type: 'integer', minimum: 0 }, fail: { type: 'integer', minimum: 0 }, excepted: { type: 'integer', minimum: 0 } },
        },
        findings: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['source', 'image', 'id', 'subject', 'severity', 'disposition', 'text'],
            properties: {
              source: { enum: ['check', 'annotation'] },
              image: STR,
              id: STR,
              subject: STR,
              severity: NSTR,
              disposition: { enum: ['open', 'must-fix', 'accepted-risk', 'false-positive', 'note'] },
              text: STR,
              author: STR,
            },
          },
        },
        tool: { type: 'object', additionalProperties: false, required: ['name', 'version'], properties: { name: { const: 'vouch' }, version: STR } },
      },
    },
  },
} as const;

/** The first way `statement` breaks the schema, or null. */
export function checkApprovalStatement(statement: unknown): SchemaError | null {
  return checkSchema(APPROVAL_SCHEMA, statement);
}
