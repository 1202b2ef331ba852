/**
 * `vouch attach`: put a signed approval next to the image it approves, in the
 * two places admission controllers look:
 * - an OCI 1.1 referrer (artifactType = Sigstore bundle v0.3, subject = the
 *   image manifest), listed through the referrers API where the registry has
 *   one, else in the `sha256-<hex>` referrers tag index;
 * - cosign's `sha256-<hex>.att` image: the DSSE envelope as a layer with
 *   cosign's annotations (certificate, chain, Rekor bundle, timestamp), which
 *   Kyverno and policy-controller read.
 * Attaching is transport, not trust: the approval is not verified here (that
 * is `vouch verify`'s job, and every reader verifies again), but it must name
 * the image's digest, or it could never cover it.
 */
import { VouchError } from '../errors.js';
import { digestOf } from '../oci/digest.js';
import { parseJsonBytes, parseManifest } from '../oci/manifest.js';
import { MediaType } from '../oci/mediatypes.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { parseReference } from '../ref/parse.js';
import { RegistryClient, type RegistryClientOptions } from '../sources/registry/client.js';
import { sleep } from '../sources/registry/http.js';
import { CosignAnnotation, CosignMediaType, digestTag } from '../trust/attachments.js';
import { sanitizeLine } from '../util/sanitize.js';
import { readLocalFile } from '../util/local-file.js';
import { canonicalJson } from '../util/canonical-json.js';
import { maxOf } from '../util/fold.js';

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const MAX_BUNDLE_BYTES = 8 << 20;
const EMPTY_CONFIG = Buffer.from('{}');

interface BundleJson {
  mediaType?: unknown;
  verificationMaterial?: {
    certificate?: { rawBytes?: string };
    x509CertificateChain?: { certificates?: Array<{ rawBytes?: string }> };
    tlogEntries?: Array<{
      logIndex?: string;
      logId?: { keyId?: string };
      integratedTime?: string;
      inclusionPromise?: { signedEntryTimestamp?: string };
      canonicalizedBody?: string;
    }>;
    timestampVerificationData?: { rfc3161Timestamps?: Array<{ signedTimestamp?: string }> };
  };
  dsseEnvelope?: { payload?: unknown; payloadType?: unknown; signatures?: unknown };
}

export interface LoadedBundle {
  path: string;
  bytes: Buffer;
  bundle: BundleJson;
  envelope: { payload: string; payloadType: string; signatures: Array<{ sig: string; keyid?: string }> };
  predicateType: string;
  /** Subject digests of the statement ("sha256:…"). */
  subjects: string[];
}

function bad(path: string, msg: string): never {
  throw new VouchError('INVALID_BUNDLE', `${path}: ${sanitizeLine(msg)}`);
}

/** Read an approval bundle far enough to attach it: a v0.3 bundle holding a DSSE in-toto statement. */
export async function readApprovalBundle(path: string): Promise<LoadedBundle> {
  const bytes = await readLocalFile(path, { what: 'approval', max: MAX_BUNDLE_BYTES, name: path });
  const bundle = parseJsonBytes(bytes, path, 'INVALID_BUNDLE', MAX_BUNDLE_BYTES) as BundleJson;
  if (typeof bundle !== 'object' || bundle === null) bad(path, 'not a Sigstore bundle (not a JSON object)');
  if (bundle.mediaType !== BUNDLE_V03_MEDIA_TYPE) bad(path, `mediaType: not a Sigstore bundle v0.3 (${JSON.stringify(bundle.mediaType ?? null)})`);
  const env = bundle.dsseEnvelope;
  if (!env || typeof env.payload !== 'string' || typeof env.payloadType !== 'string' || !Array.isArray(env.signatures) || env.signatures.length === 0) {
    bad(path, 'dsseEnvelope: an approval is a DSSE envelope with a payload and a signature');
  }
  if (env.payloadType !== 'application/vnd.in-toto+json') bad(path, `dsseEnvelope.payloadType: ${JSON.stringify(env.payloadType)} is not an in-toto statement`);
  const signatures = (env.signatures as unknown[]).map((s, i) => {
    const sig = (s as { sig?: unknown })?.sig;
    const keyid = (s as { keyid?: unknown })?.keyid;
    if (typeof sig !== 'string') bad(path, `dsseEnvelope.signatures[${i}].sig is not a string`);
    return { sig, ...(typeof keyid === 'string' ? { keyid } : {}) };
  });
  const statement = parseJsonBytes(Buffer.from(env.payload, 'base64'), `${path}: dsseEnvelope.payload`, 'INVALID_BUNDLE', MAX_BUNDLE_BYTES) as {
    predicateType?: unknown;
    subject?: Array<{ digest?: Record<string, unknown> }>;
  };
  if (typeof statement?.predicateType !== 'string') bad(path, 'dsseEnvelope.payload: the statement has no predicateType');
  if (!Array.isArray(statement.subject)) bad(path, 'dsseEnvelope.payload: the statement has no subject list');
  const subjects = statement.subject.flatMap((s) => (typeof s?.digest?.['sha256'] === 'string' ? [`sha256:${s.digest['sha256']}`] : []));
  checkMaterial(bundle.verificationMaterial, path);
  return { path, bytes, bundle, envelope: { payload: env.payload, payloadType: env.payloadType, signatures }, predicateType: statement.predicateType, subjects };
}

/** The verification material cosignAttestationLayer copies into annotations: strings and lists where present (a number there was a TypeError). */
function checkMaterial(vm: unknown, path: string): void {
  if (vm === undefined) return;
  if (typeof vm !== 'object' || vm === null || Array.isArray(vm)) bad(path, 'verificationMaterial: not an object');
  const m = vm as Record<string, any>;
  const str = (v: unknown, field: string): void => {
    if (v !== undefined && typeof v !== 'string') bad(path, `verificationMaterial.${field}: not a string`);
  };
  const list = (v: unknown, field: string): unknown[] => {
    if (v !== undefined && !Array.isArray(v)) bad(path, `verificationMaterial.${field}: not a list`);
    return (v as unknown[] | undefined) ?? [];
  };
  str(m.certificate?.rawBytes, 'certificate.rawBytes');
  list(m.x509CertificateChain?.certificates, 'x509CertificateChain.certificates').forEach((c: any, i) => str(c?.rawBytes, `x509CertificateChain.certificates[${i}].rawBytes`));
  const e = list(m.tlogEntries, 'tlogEntries')[0] as Record<string, any> | undefined;
  str(e?.inclusionPromise?.signedEntryTimestamp, 'tlogEntries[0].inclusionPromise.signedEntryTimestamp');
  str(e?.canonicalizedBody, 'tlogEntries[0].canonicalizedBody');
  str(e?.logId?.keyId, 'tlogEntries[0].logId.keyId');
  const ts = list(m.timestampVerificationData?.rfc3161Timestamps, 'timestampVerificationData.rfc3161Timestamps')[0] as Record<string, unknown> | undefined;
  str(ts?.signedTimestamp, 'timestampVerificationData.rfc3161Timestamps[0].signedTimestamp');
}

const pem = (b64: string): string => `-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

/** The `.att` layer cosign would write for this envelope: the envelope as JSON plus cosign's annotations. */
export function cosignAttestationLayer(b: LoadedBundle): { bytes: Buffer; annotations: Record<string, string> } {
  const bytes = Buffer.from(JSON.stringify({ payloadType: b.envelope.payloadType, payload: b.envelope.payload, signatures: b.envelope.signatures.map((s) => ({ keyid: s.keyid ?? '', sig: s.sig })) }));
  const annotations: Record<string, string> = { [CosignAnnotation.Signature]: '', [CosignAnnotation.PredicateType]: b.predicateType };
  const vm = b.bundle.verificationMaterial ?? {};
  const certs = vm.certificate?.rawBytes ? [vm.certificate.rawBytes] : (vm.x509CertificateChain?.certificates ?? []).flatMap((c) => (c.rawBytes ? [c.rawBytes] : []));
  if (certs.length > 0) {
    annotations[CosignAnnotation.Certificate] = pem(certs[0]!);
    if (certs.length > 1) annotations[CosignAnnotation.Chain] = certs.slice(1).map(pem).join('');
  }
  const e = vm.tlogEntries?.[0];
  if (e?.inclusionPromise?.signedEntryTimestamp && e.canonicalizedBody && e.logId?.keyId) {
    annotations[CosignAnnotation.Bundle] = JSON.stringify({
      SignedEntryTimestamp: e.inclusionPromise.signedEntryTimestamp,
      Payload: { body: e.canonicalizedBody, integratedTime: Number(e.integratedTime ?? 0), logIndex: Number(e.logIndex ?? 0), logID: Buffer.from(e.logId.keyId, 'base64').toString('hex') },
    });
  }
  const ts = vm.timestampVerificationData?.rfc3161Timestamps?.[0]?.signedTimestamp;
  if (ts) annotations[CosignAnnotation.Rfc3161] = JSON.stringify({ SignedRFC3161Timestamp: ts });
  return { bytes, annotations };
}

export interface AttachReport {
  approval: string;
  image: { reference: string; digest: string };
  referrer: { digest: string; via: 'referrers-api' | 'referrers-tag'; tag: string | null; alreadyListed: boolean };
  cosign: { tag: string; digest: string; layers: number; alreadyPresent: boolean };
}

const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));

/** Push `approvalPath` to the repository of `to` (a docker:// reference or a registry name, tag or digest). */
export async function attachApproval(approvalPath: string, to: string, opts: RegistryClientOptions = {}): Promise<AttachReport> {
  const approval = await readApprovalBundle(approvalPath);
  const parsed = parseReference(to.includes('://') ? to : `docker://${to}`);
  if (parsed.transport !== 'docker') throw new VouchError('USAGE', `--to ${sanitizeLine(to)}: approvals are attached in a registry (docker://REGISTRY/REPO[:TAG|@DIGEST])`);
  const ref = parsed.ref;
  const client = new RegistryClient(ref.registry, opts);
  const repo = ref.repository;
  const image = await client.getManifest(repo, ref.digest ?? ref.tag ?? 'latest');
  const manifestType = parseManifest(image.bytes, `${client.name(repo)}@${image.digest}`, image.contentType || undefined);
  const subjectType = manifestType.kind === 'index' ? (manifestType.index.mediaType ?? MediaType.OciIndex) : (manifestType.manifest.mediaType ?? MediaType.OciManifest);
  const subject: Descriptor = { mediaType: subjectType, digest: image.digest, size: image.bytes.length };
  if (!approval.subjects.includes(image.digest)) {
    throw new VouchError(
      'USAGE',
      `${approvalPath}: the approval does not name ${client.name(repo)}@${image.digest} (its subjects: ${approval.subjects.map((d) => d.slice(0, 19)).join(', ') || 'none'}); attaching it could never cover this image`,
    );
  }
  const base = digestTag(image.digest);

  // OCI 1.1 referrer: empty config, the bundle as the one layer.
  const config = await client.pushBlob(repo, EMPTY_CONFIG);
  const layer = await client.pushBlob(repo, approval.bytes);
  const referrerManifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: BUNDLE_V03_MEDIA_TYPE,
    config: { mediaType: MediaType.OciEmpty, digest: config.digest, size: config.size },
    layers: [{ mediaType: BUNDLE_V03_MEDIA_TYPE, digest: layer.digest, size: layer.size }],
    subject,
    // No timestamp: the same approval attached twice is the same manifest.
    annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': approval.predicateType },
  };
  const referrerBytes = json(referrerManifest);
  const referrer = await client.putManifest(repo, digestOf(referrerBytes), referrerBytes, MediaType.OciManifest);
  const api = await client.getReferrers(repo, image.digest);
  const lists: TagList[] = [];
  let index: TagList | undefined;
  if (api === undefined) {
    // Referrers tag schema: the index under sha256-<hex>, ours added.
    index = new TagList(client, repo, base, { mediaType: MediaType.OciManifest, digest: referrer.digest, size: referrer.size, artifactType: BUNDLE_V03_MEDIA_TYPE, annotations: referrerManifest.annotations! }, {
      entriesOf: (bytes) => {
        const p = parseManifest(bytes, `${client.name(repo)}:${base}`);
        if (p.kind !== 'index') throw new VouchError('REGISTRY_ERROR', `${client.name(repo)}:${base}: the referrers tag holds an image, not an index; not overwriting it`);
        return p.index.manifests;
      },
      write: async (manifests) => (await client.putManifest(repo, base, json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }), MediaType.OciIndex)).digest,
    });
    lists.push(index);
  }

  // cosign's .att image: one layer per attestation, appended to what is there.
  const attTag = `${base}.att`;
  const attLayer = cosignAttestationLayer(approval);
  const attBlob = await client.pushBlob(repo, attLayer.bytes);
  const att = new TagList(client, repo, attTag, { mediaType: CosignMediaType.Dsse, digest: attBlob.digest, size: attBlob.size, annotations: attLayer.annotations }, {
    entriesOf: (bytes) => {
      const p = parseManifest(bytes, `${client.name(repo)}:${attTag}`);
      if (p.kind !== 'image') throw new VouchError('REGISTRY_ERROR', `${client.name(repo)}:${attTag}: holds an index, not cosign's attestation image; not overwriting it`);
      return p.manifest.layers;
    },
    write: async (layers) => {
      const cfg = await client.pushBlob(
        repo,
        json({ architecture: '', created: '0001-01-01T00:00:00Z', history: [{ created: '0001-01-01T00:00:00Z' }], os: '', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, config: {} }),
      );
      const attManifest = json({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg.digest, size: cfg.size }, layers });
      return (await client.putManifest(repo, attTag, attManifest, MediaType.OciManifest)).digest;
    },
  });
  lists.push(att);
  for (const l of lists) await l.converge();
  await settle(lists);
  return {
    approval: approvalPath,
    image: { reference: `${client.name(repo)}@${image.digest}`, digest: image.digest },
    referrer: index
      ? { digest: referrer.digest, via: 'referrers-tag', tag: base, alreadyListed: index.alreadyListed }
      : { digest: referrer.digest, via: 'referrers-api', tag: null, alreadyListed: api?.manifests.some((d) => d.digest === referrer.digest) ?? false },
    cosign: { tag: attTag, digest: att.digest, layers: att.entries.length, alreadyPresent: att.alreadyListed },
  };
}

/** Writes of one tag's list before vouch gives up on writers that keep replacing it. */
const MAX_TAG_WRITES = 10;

/**
 * A list kept under a tag (the referrers index's manifests, the .att image's
 * layers) that `vouch attach` adds one entry to. The registry has no
 * compare-and-swap, so two writers that both read before either wrote would
 * each put back a list without the other's entry. `converge` reads the tag,
 * and whenever it lacks our entry or any entry ever read from it (another
 * writer's list replaced one that had them), writes back the union after a
 * jittered wait, and reads again, until a read lists them all: nothing read
 * is ever dropped, and each writer keeps at it until its own entry stays.
 */
class TagList {
  /** Every entry ever read from the tag, and ours; by digest, in the order first seen. */
  private readonly seen = new Map<string, Descriptor>();
  private read = false;
  writes = 0;
  /** The longest read-to-written span we saw: how long another writer's stale list may take to land. */
  spanMs = 0;
  alreadyListed = false;
  digest = '';
  entries: Descriptor[] = [];

  constructor(
    private readonly client: RegistryClient,
    private readonly repo: string,
    private readonly tag: string,
    private readonly ours: Descriptor,
    private readonly io: { entriesOf(bytes: Buffer): Descriptor[]; write(entries: Descriptor[]): Promise<string> },
  ) {}

  async converge(): Promise<void> {
    for (;;) {
      const t0 = Date.now();
      const cur = await manifestByTag(this.client, this.repo, this.tag);
      const all = cur ? this.io.entriesOf(cur.bytes) : [];
      // An entry with our digest but another descriptor (artifactType, mediaType, annotations) is a decoy that
      // readers filtering on those fields skip: it is replaced by ours, never taken for ours.
      const listed = all.filter((d) => d.digest !== this.ours.digest || sameDescriptor(d, this.ours));
      const decoys = all.length - listed.length;
      this.seen.set(this.ours.digest, this.ours);
      for (const d of listed) if (!this.seen.has(d.digest)) this.seen.set(d.digest, d);
      if (!this.read) this.alreadyListed = decoys === 0 && listed.some((d) => d.digest === this.ours.digest);
      this.read = true;
      const have = new Set(listed.map((d) => d.digest));
      const missing = [...this.seen.values()].filter((d) => !have.has(d.digest));
      if (missing.length === 0 && decoys === 0 && cur) {
        this.digest = cur.digest;
        this.entries = listed;
        return;
      }
      if (this.writes >= MAX_TAG_WRITES) {
        throw new VouchError(
          'REGISTRY_ERROR',
          `${this.client.name(this.repo)}:${this.tag}: other writers kept replacing it (${missing.length} entr${missing.length === 1 ? 'y' : 'ies'} still missing after ${MAX_TAG_WRITES} writes); run vouch attach again`,
        );
      }
      // Replaced by another writer since our last write: let the crowd pass before writing again.
      if (this.writes > 0) await sleep(jittered(Math.min(2_000, 50 * 2 ** (this.writes - 1))));
      await this.io.write([...listed, ...missing]);
      this.writes++;
      this.spanMs = Math.max(this.spanMs, Date.now() - t0);
    }
  }
}

/**
 * A writer that read before our last write and writes after our check would
 * still replace our list with one that lacks our entry. So after writing, wait
 * a few times as long as a read-modify-write takes here and check again;
 * repeat while the check had to write (bounded by MAX_TAG_WRITES per list).
 */
async function settle(lists: TagList[]): Promise<void> {
  let writes = lists.reduce((n, l) => n + l.writes, 0);
  if (writes === 0) return; // wrote nothing: our entries were there already
  for (;;) {
    const span = maxOf(lists.map((l) => l.spanMs));
    await sleep(jittered(Math.min(5_000, Math.max(100, 3 * span))));
    for (const l of lists) await l.converge();
    const now = lists.reduce((n, l) => n + l.writes, 0);
    if (now === writes) return;
    writes = now;
  }
}

/** Two descriptors say the same to a reader: every field compared, annotations by key. */
function sameDescriptor(a: Descriptor, b: Descriptor): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Between `ms` / 2 and `ms`: writers that collided do not come back in step. */
function jittered(ms: number): number {
  return Math.round(ms / 2 + Math.random() * (ms / 2));
}

async function manifestByTag(client: RegistryClient, repo: string, tag: string): Promise<{ bytes: Buffer; digest: string } | undefined> {
  try {
    return await client.getManifest(repo, tag);
  } catch (e) {
    if (e instanceof VouchError && e.code === 'NOT_FOUND' && !/repository not found/.test(e.message)) return undefined;
    throw e;
  }
}
