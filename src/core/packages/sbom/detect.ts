/**
 * Identify an SBOM's format and spec version by content (never by file name):
 * CycloneDX JSON (by bomFormat/specVersion, or $schema when a producer left
 * specVersion out), SPDX 2.x JSON (spdxVersion), SPDX 3 JSON-LD (@context /
 * CreationInfo.specVersion), syft JSON (artifacts + schema/descriptor), and
 * SPDX tag-value (identified, not read). In-toto Statements and DSSE envelopes
 * around an SBOM are unwrapped (not verified: that is the trust module's job).
 */
import { ReadContext, SbomError, isObj, str, arr, q, type Obj } from './common.js';
import { isVouchSbomJson } from './vouch-json.js';
import { describeText } from '../../util/file-kind.js';

export type SbomFormatName = 'cyclonedx-json' | 'spdx-json' | 'spdx-jsonld' | 'spdx-tag-value' | 'syft-json' | 'vouch-json';

export interface SbomFormat {
  name: SbomFormatName;
  /** Spec version as the document states it: "1.6", "2.3", "3.0.1", syft schema "16.0.1". */
  version: string;
}

export interface Detection {
  format: SbomFormat;
  /** Whether vouch reads this format+version (SPDX 3 and tag-value are identified only). */
  supported: boolean;
  /** Why not, or what to beware of (a newer minor version than we know). */
  note?: string;
  /** The parsed JSON document (the SBOM itself, unwrapped from any attestation). */
  doc?: Obj;
  /** Set when the SBOM came inside an in-toto Statement (and DSSE envelope). */
  wrappedIn?: 'in-toto' | 'dsse+in-toto';
}

export const CYCLONEDX_VERSIONS = ['1.2', '1.3', '1.4', '1.5', '1.6', '1.7'];
export const SPDX_VERSIONS = ['2.2', '2.3'];

/** Identify a parsed JSON value; null when it is not an SBOM we recognise. */
export function identifyJson(doc: unknown): Detection | null {
  if (!isObj(doc)) return null;

  // CycloneDX: bomFormat is required since 1.2; micronaut-style files have no $schema.
  const schemaUrl = str(doc.$schema) ?? '';
  const cdxSchema = /cyclonedx\.org\/schema\/bom-(\d+\.\d+)/i.exec(schemaUrl);
  if (doc.bomFormat === 'CycloneDX' || cdxSchema) {
    const sv = typeof doc.specVersion === 'number' ? doc.specVersion.toFixed(1) : str(doc.specVersion) ?? cdxSchema?.[1] ?? null;
    if (!sv) return { format: { name: 'cyclonedx-json', version: 'unknown' }, supported: false, note: 'no specVersion', doc };
    return { ...cdxSupport(sv), doc };
  }

  // SPDX 2.x JSON.
  const spdxVersion = str(doc.spdxVersion);
  if (spdxVersion !== null) {
    const m = /^SPDX-(\d+\.\d+)$/.exec(spdxVersion);
    const version = m ? m[1]! : spdxVersion;
    const format: SbomFormat = { name: 'spdx-json', version };
    if (m && SPDX_VERSIONS.includes(version)) return { format, supported: true, doc };
    if (m && version.startsWith('2.')) return { format, supported: true, note: `SPDX-${version} is not 2.2 or 2.3; read as 2.3`, doc };
    return { format, supported: false, note: `spdxVersion ${q(spdxVersion)} is not SPDX-2.2 or SPDX-2.3`, doc };
  }

  // SPDX 3 JSON-LD.
  const ctx = doc['@context'];
  const ctxs = (Array.isArray(ctx) ? ctx : [ctx]).filter((c): c is string => typeof c === 'string');
  const ctxMatch = ctxs.map((c) => /spdx\.org\/rdf\/(\d+(?:\.\d+)*)/.exec(c)).find(Boolean);
  if (ctxMatch || (Array.isArray(doc['@graph']) && graphSpecVersion(doc['@graph']))) {
    const version = graphSpecVersion(arr(doc['@graph'])) ?? ctxMatch?.[1] ?? 'unknown';
    return {
      format: { name: 'spdx-jsonld', version },
      supported: false,
      note: 'identified but not supported (vouch reads SPDX 2.2/2.3 JSON)',
      doc,
    };
  }

  // syft JSON: artifacts plus syft's schema block or descriptor.
  if (Array.isArray(doc.artifacts)) {
    const schema = isObj(doc.schema) ? doc.schema : null;
    const descriptor = isObj(doc.descriptor) ? doc.descriptor : null;
    const url = str(schema?.url) ?? '';
    if (schema || descriptor?.name === 'syft' || /anchore\/syft/.test(url)) {
      const version = str(schema?.version) ?? /schema-([\d.]+)\.json/.exec(url)?.[1] ?? 'unknown';
      return { format: { name: 'syft-json', version }, supported: true, doc };
    }
  }
  // vouch's own `vouch sbom --json`.
  if (isVouchSbomJson(doc)) return { format: { name: 'vouch-json', version: '1' }, supported: true, doc };
  return null;
}

function graphSpecVersion(graph: unknown[]): string | null {
  for (const el of graph.slice(0, 1000)) {
    if (isObj(el) && el.type === 'CreationInfo' && typeof el.specVersion === 'string') return el.specVersion;
  }
  return null;
}

function cdxSupport(sv: string): Detection {
  const format: SbomFormat = { name: 'cyclonedx-json', version: sv };
  if (CYCLONEDX_VERSIONS.includes(sv)) return { format, supported: true };
  const m = /^1\.(\d+)$/.exec(sv);
  if (m && Number(m[1]) > 7) return { format, supported: true, note: `CycloneDX ${sv} is newer than 1.7; read as 1.7` };
  return { format, supported: false, note: `CycloneDX specVersion ${q(sv)} is not supported (JSON 1.2–1.7)` };
}

/** `SPDXVersion: SPDX-2.3` near the top of a text document. */
function identifyTagValue(text: string): Detection | null {
  const head = text.slice(0, 8192);
  if (!/^\s*(?:#[^\n]*\n\s*)*(SPDXVersion|DataLicense|SPDXID|DocumentName|DocumentNamespace)\s*:/m.test(head)) return null;
  const v = /^\s*SPDXVersion\s*:\s*SPDX-(\d+\.\d+)/m.exec(head);
  return {
    format: { name: 'spdx-tag-value', version: v ? v[1]! : 'unknown' },
    supported: false,
    note: 'identified but not supported; convert it to SPDX JSON first (e.g. with `syft convert` or the SPDX tools)',
  };
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeText(bytes: Uint8Array | string, what: string): string {
  if (typeof bytes === 'string') return bytes.replace(/^\uFEFF/, '');
  try {
    return decoder.decode(bytes);
  } catch (e) {
    const kind = describeText(bytes);
    throw new SbomError('invalid', `${what}: ${kind ?? 'not UTF-8 text'}`, { cause: e });
  }
}

/**
 * Identify a document from its text: tag-value by its first tags, JSON by its
 * fields. Throws SbomError (exit 2) when the text is neither, or is malformed
 * or truncated JSON.
 */
export function detectSbom(text: string, what: string): Detection {
  const first = /\S/.exec(text);
  if (!first) throw new SbomError('invalid', `${what}: empty file, not an SBOM`);
  if (first[0] !== '{' && first[0] !== '[') {
    const tv = identifyTagValue(text);
    if (tv) return tv;
    const kind = describeText(Buffer.from(text.slice(0, 4096)));
    if (kind) throw new SbomError('unsupported', `${what}: ${kind}`);
    throw new SbomError('invalid', `${what}: not an SBOM (neither JSON nor SPDX tag-value)`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // V8 says "Unexpected end of JSON input", or names a position: at the very end means the file was cut short.
    const pos = /at position (\d+)/.exec(msg);
    const truncated = /end of (JSON )?input|Unterminated/i.test(msg) || (pos !== null && Number(pos[1]) >= text.trimEnd().length - 1);
    throw new SbomError('invalid', `${what}: malformed JSON${truncated ? ' (the file looks truncated)' : ''}: ${clip(msg)}`, { cause: e });
  }
  return identifyParsed(doc, what, new ReadContext(what));
}

function clip(s: string): string {
  const l = s.replace(/\s+/g, ' ');
  return l.length > 160 ? `${l.slice(0, 159)}…` : l;
}

/** Identify a parsed value, unwrapping an in-toto Statement or a DSSE envelope around it. */
export function identifyParsed(doc: unknown, what: string, ctx: ReadContext): Detection {
  let wrappedIn: Detection['wrappedIn'];
  if (isObj(doc) && typeof doc.payloadType === 'string' && typeof doc.payload === 'string') {
    // DSSE envelope: the payload is base64 of an in-toto Statement.
    let inner: unknown;
    try {
      inner = JSON.parse(Buffer.from(doc.payload, 'base64').toString('utf8'));
    } catch {
      ctx.fail(`DSSE envelope payload is not base64 JSON`);
    }
    doc = inner;
    wrappedIn = 'dsse+in-toto';
  }
  if (isObj(doc) && typeof doc._type === 'string' && /in-toto\.io\/Statement/.test(doc._type)) {
    if (!isObj(doc.predicate)) ctx.fail(`in-toto Statement has no predicate object (predicateType ${q(doc.predicateType)})`);
    doc = doc.predicate;
    wrappedIn ??= 'in-toto';
    // cosign's generic predicate wrapper (`cosign attest --type cyclonedx|spdx` before v2): {"Data": <document or its JSON text>, "Timestamp": …}.
    if (isObj(doc) && doc.Data !== undefined && doc.bomFormat === undefined && doc.spdxVersion === undefined) {
      const data = doc.Data;
      if (typeof data === 'string') {
        try {
          doc = JSON.parse(data);
        } catch {
          ctx.fail('in-toto predicate "Data" is a string but not JSON (cosign predicate wrapper)');
        }
      } else doc = data;
    }
  }
  if (Array.isArray(doc)) ctx.fail('not an SBOM: a JSON array, expected a CycloneDX, SPDX or syft JSON object');
  const d = identifyJson(doc);
  if (!d) {
    ctx.fail(
      `not a recognised SBOM: no CycloneDX "bomFormat", SPDX "spdxVersion", SPDX 3 "@context" or syft "artifacts" (top-level ${isObj(doc) ? 'object' : 'value'})`,
    );
  }
  if (wrappedIn) d.wrappedIn = wrappedIn;
  return d;
}
