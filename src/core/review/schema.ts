/**
 * JSON Schema of the review session file (also in the repository as
 * schemas/review-session.v1.json; a test keeps them equal) and the strict
 * reader: a file that does not parse, has another version, or breaks the
 * schema is one line naming the file and field.
 */
import { checkSchema } from '../util/schema-check.js';
import { VouchError } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import { SESSION_VERSION, type ReviewSession } from './types.js';

const STR = { type: 'string' } as const;
const NSTR = { type: ['string', 'null'] } as const;
const DIGEST = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;
const FILE = { type: 'object', additionalProperties: false, required: ['path', 'digest'], properties: { path: STR, digest: DIGEST } } as const;
const DISPOSITION = { enum: ['must-fix', 'accepted-risk', 'false-positive', 'note'] } as const;
// Strict enums: a lookalike ("high" + U+200B) must not read as an unknown, hence harmless, severity.
const SEVERITY = { enum: ['critical', 'high', 'medium', 'low', 'info'] } as const;
/** Release name and version end up in file names: a safe file-name charset, no '..'. */
export const RELEASE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$';
const RELEASE_NAME = { type: 'string', pattern: RELEASE_NAME_PATTERN } as const;
const STATE_PROPS = { disposition: DISPOSITION, severity: { anyOf: [{ type: 'null' }, SEVERITY] }, text: STR, author: STR, at: STR, deleted: { type: 'boolean' } } as const;
const STATE_REQ = ['disposition', 'severity', 'text', 'author', 'at', 'deleted'] as const;
const COUNT = { type: 'integer', minimum: 0 } as const;

const subject = (kind: string, props: Record<string, object>) => ({
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'image', ...Object.keys(props)],
  properties: { kind: { const: kind }, image: STR, ...props },
});

export const SESSION_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://vouch.dev/schemas/review-session.v1.json',
  title: 'vouch review session, version 1',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'release', 'createdAt', 'updatedAt', 'images', 'policy', 'trust', 'baseline', 'annotations', 'warnings'],
  properties: {
    version: { const: 1 },
    release: { type: 'object', additionalProperties: false, required: ['name', 'version', 'file'], properties: { name: RELEASE_NAME, version: RELEASE_NAME, file: FILE } },
    createdAt: STR,
    updatedAt: STR,
    images: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'reference', 'name', 'digest', 'index', 'platform', 'pinned', 'layers', 'packages', 'licenses', 'inventory', 'evidence', 'chain', 'checks'],
        properties: {
          key: STR,
          reference: STR,
          name: STR,
          digest: DIGEST,
          index: { anyOf: [{ type: 'null' }, DIGEST] },
          indexPlatforms: { type: 'array', items: DIGEST },
          platform: STR,
          pinned: STR,
          layers: { type: 'array', items: STR },
          packages: { type: 'array', items: STR },
          licenses: { type: 'object', additionalProperties: { type: 'array', items: STR } },
          inventory: {
            type: 'object',
            additionalProperties: false,
            required: ['packages', 'byType'],
            properties: { packages: COUNT, byType: { type: 'object', additionalProperties: COUNT } },
          },
          evidence: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['kind', 'digest', 'verified', 'type', 'signer'],
              properties: { kind: { enum: ['signature', 'attestation', 'sbom', 'provenance', 'scan', 'approval'] }, digest: STR, verified: { type: 'boolean' }, type: NSTR, signer: NSTR },
            },
          },
          chain: {
            anyOf: [
              { type: 'null' },
              {
                type: 'object',
                additionalProperties: false,
                required: ['signatures', 'verifiedSignatures', 'attestations', 'verifiedAttestations', 'provenance'],
                properties: { signatures: COUNT, verifiedSignatures: COUNT, attestations: COUNT, verifiedAttestations: COUNT, provenance: { type: 'boolean' } },
              },
            ],
          },
          checks: {
            type: 'object',
            additionalProperties: false,
            required: ['pass', 'fail', 'excepted', 'results'],
            properties: {
              pass: COUNT,
              fail: COUNT,
              excepted: COUNT,
              results: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['id', 'severity', 'status', 'subject', 'message'],
                  properties: { id: STR, severity: SEVERITY, status: { enum: ['fail', 'excepted'] }, subject: STR, message: STR },
                },
              },
            },
          },
        },
      },
    },
    policy: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'digest', 'failOn'],
      properties: { path: NSTR, digest: DIGEST, failOn: SEVERITY },
    },
    trust: FILE,
    baseline: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['path', 'digest', 'release'],
          properties: {
            path: STR,
            digest: DIGEST,
            release: { anyOf: [{ type: 'null' }, { type: 'object', additionalProperties: false, required: ['name', 'version'], properties: { name: STR, version: STR } }] },
            decision: STR,
            reviewer: STR,
            identity: STR,
            reviewedAt: STR,
          },
        },
      ],
    },
    annotations: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'subject', 'createdAt', 'history', ...STATE_REQ],
        properties: {
          id: STR,
          subject: {
            oneOf: [
              subject('image', {}),
              subject('layer', { digest: STR }),
              // An absolute path: a relative one could be spelled like another subject's key ("image", "env:X").
              subject('path', { path: { type: 'string', pattern: '^/' } }),
              subject('package', { purl: STR }),
              subject('signature', { digest: STR }),
              subject('check', { check: STR, subject: STR }),
            ],
          },
          createdAt: STR,
          history: { type: 'array', items: { type: 'object', additionalProperties: false, required: [...STATE_REQ], properties: STATE_PROPS } },
          ...STATE_PROPS,
        },
      },
    },
    warnings: { type: 'array', items: STR },
  },
} as const;


function bad(path: string, msg: string): never {
  throw new VouchError('USAGE', `${path}: ${sanitizeLine(msg)}`);
}

/** Parse and validate a session file's text. */
export function parseSession(text: string, path: string): ReviewSession {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    bad(path, `not a review session: not JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) bad(path, 'not a review session: not a JSON object');
  if (doc.version !== SESSION_VERSION) bad(path, `version: ${JSON.stringify(doc.version ?? null)} is not a session version this vouch reads (${SESSION_VERSION})`);
  // Named before the schema's oneOf (which says only "must match exactly one schema in oneOf").
  if (Array.isArray(doc.annotations)) {
    doc.annotations.forEach((a: any, i: number) => {
      if (a?.subject?.kind === 'path' && typeof a.subject.path === 'string' && !a.subject.path.startsWith('/')) bad(path, `annotations.${i}.subject.path: ${JSON.stringify(a.subject.path)} is not an absolute path (a path annotation names a file in the image, /…)`);
    });
  }
  const e = checkSchema(SESSION_SCHEMA, doc);
  if (e) {
    const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
    const extra = e.keyword === 'additionalProperties' ? ` ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}` : '';
    bad(path, `${at}: ${e.message ?? e.keyword}${extra}`);
  }
  return doc as ReviewSession;
}
