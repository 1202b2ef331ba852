/**
 * Local Sigstore services for tests: Fulcio, Rekor and a timestamp authority
 * built from @sigstore/mock's exported handlers, served with node:http on
 * 127.0.0.1 (real HTTP, no interception), and keyless signing against them
 * with @sigstore/sign. `trustedRoot` is the matching trusted_root.json.
 */
import { createHash, generateKeyPairSync, randomBytes, randomInt, sign as cryptoSign, type KeyPairKeyObjectResult } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fulcioHandler, initializeCA, initializeTSA, rekorHandler, tsaHandler, type HandlerFn } from '@sigstore/mock';
import { X509Certificate, json as sigjson } from '@sigstore/core';
import { DSSEBundleBuilder, FulcioSigner, MessageSignatureBundleBuilder, RekorWitness, TSAWitness, type Bundle } from '@sigstore/sign';

export interface Identity {
  /** Becomes the certificate SAN (email or URI). */
  sub: string;
  iss?: string;
  /** Further claims Fulcio turns into extensions (repository, sha, event_name, run_id, run_attempt, workflow_ref…). */
  claims?: Record<string, string>;
}

export interface KeylessSignature {
  bundle: Bundle;
  signature: Buffer;
  certPem: string;
  chainPem: string;
  /** cosign's `dev.sigstore.cosign/bundle` annotation for this signature (Rekor SET), when logged. */
  rekorAnnotation?: string;
}

export interface SigstoreServices {
  fulcioURL: string;
  rekorURL: string;
  tsaURL: string;
  /** trusted_root.json (protobuf JSON) trusting this Fulcio, Rekor, CT log and TSA. */
  trustedRoot: Record<string, unknown>;
  /** Sign `payload` keylessly (message signature bundle: Fulcio cert, Rekor entry, optional TSA timestamp). */
  signMessage(payload: Buffer, id: Identity, opts?: { tsa?: boolean; tlog?: boolean }): Promise<KeylessSignature>;
  /** Sign a DSSE payload keylessly. */
  signDsse(payload: Buffer, payloadType: string, id: Identity): Promise<KeylessSignature>;
  /** Log any proposed entry in this Rekor (cosign annotation form). */
  logEntry(proposed: object): Promise<string>;
  stop(): Promise<void>;
}

const pem = (der: Buffer, label = 'CERTIFICATE'): string => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
const b64url = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

function unsignedJwt(id: Identity): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: id.iss ?? 'https://token.actions.example.com', sub: id.sub, aud: 'sigstore', iat: now, exp: now + 600, ...id.claims })}.sig`;
}

async function serve(routes: Record<string, HandlerFn>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fn = routes[(req.url ?? '').split('?')[0]!];
      if (!fn || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      fn(Buffer.concat(chunks).toString('utf8')).then(
        (r) => res.writeHead(r.statusCode, { 'content-type': r.contentType ?? 'application/json' }).end(r.response),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The cosign annotation for a bundle's first tlog entry. */
export function rekorAnnotationOf(bundle: Bundle): string | undefined {
  const e = bundle.verificationMaterial.tlogEntries[0];
  if (!e?.inclusionPromise) return undefined;
  return JSON.stringify({
    SignedEntryTimestamp: Buffer.from(e.inclusionPromise.signedEntryTimestamp).toString('base64'),
    Payload: { body: Buffer.from(e.canonicalizedBody).toString('base64'), integratedTime: Number(e.integratedTime), logIndex: Number(e.logIndex), logID: Buffer.from(e.logId!.keyId).toString('hex') },
  });
}

/** `noSct`: Fulcio issues certificates without SCTs (never published to a CT log), for the attacks on SCT checks. */
export async function startSigstoreServices(opts: { caOnly?: boolean; noSct?: boolean } = {}): Promise<SigstoreServices> {
  const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctlog = correctCTLog(ec());
  const ca = await initializeCA(ec(), opts.noSct ? undefined : ctlog);
  const fulcio = await serve({ '/api/v2/signingCert': fulcioHandler(ca).fn });
  const rekorSrv = await serve({});
  const tlog = new MerkleTLog(new URL(rekorSrv.url).host, ec());
  const rekorFn = rekorHandler(tlog).fn;
  rekorSrv.server.removeAllListeners('request');
  rekorSrv.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if ((req.url ?? '').split('?')[0] !== '/api/v1/log/entries' || req.method !== 'POST') return void res.writeHead(404).end();
      rekorFn(Buffer.concat(chunks).toString('utf8')).then((r) => res.writeHead(r.statusCode, { 'content-type': 'application/json' }).end(r.response));
    });
  });
  // A whole-second clock: with milliseconds, pkijs writes a GeneralizedTime with a fraction that @sigstore/core cannot read ("invalid time").
  // (The clock argument of initializeTSA is a fixed instant, which would date every later timestamp before the certificate it covers:
  // the TSA reads its clock per request instead, floored to the second — never before a certificate's whole-second notBefore.)
  const tsa = await initializeTSA(ec());
  (tsa as unknown as { getCurrentTime: () => Date }).getCurrentTime = () => new Date(Math.floor(Date.now() / 1000) * 1000);
  const tsaSrv = await serve({ '/api/v1/timestamp': tsaHandler(tsa).fn });
  void opts;

  const start = new Date(Date.now() - 3600_000).toISOString();
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: rekorSrv.url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: tlog.publicKey.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: createHash('sha256').update(tlog.publicKey).digest('base64') },
      },
    ],
    certificateAuthorities: [{ subject: { organization: 'sigstore.mock', commonName: 'sigstore' }, uri: fulcio.url, certChain: { certificates: [{ rawBytes: ca.rootCertificate.toString('base64') }] }, validFor: { start } }],
    ctlogs: [
      {
        baseUrl: 'https://ctfe.mock',
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: ctlog.publicKey.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: ctlog.logID.toString('base64') },
      },
    ],
    timestampAuthorities: [
      { subject: { organization: 'sigstore.mock', commonName: 'tsa' }, uri: tsaSrv.url, certChain: { certificates: [{ rawBytes: tsa.intCertificate.toString('base64') }, { rawBytes: tsa.rootCertificate.toString('base64') }] }, validFor: { start } },
    ],
  };

  const signer = (id: Identity) => new FulcioSigner({ fulcioBaseURL: fulcio.url, identityProvider: { getToken: async () => unsignedJwt(id) } });
  const result = (bundle: Bundle, signature: Buffer): KeylessSignature => {
    const vm = bundle.verificationMaterial.content;
    const certs = vm.$case === 'x509CertificateChain' ? vm.x509CertificateChain.certificates : vm.$case === 'certificate' ? [vm.certificate] : [];
    const ann = rekorAnnotationOf(bundle);
    return { bundle, signature, certPem: pem(Buffer.from(certs[0]!.rawBytes)), chainPem: pem(ca.rootCertificate), ...(ann ? { rekorAnnotation: ann } : {}) };
  };
  return {
    fulcioURL: fulcio.url,
    rekorURL: rekorSrv.url,
    tsaURL: tsaSrv.url,
    trustedRoot,
    async signMessage(payload, id, o = {}) {
      const witnesses = [];
      if (o.tlog !== false) witnesses.push(new RekorWitness({ rekorBaseURL: rekorSrv.url }));
      if (o.tsa) witnesses.push(new TSAWitness({ tsaBaseURL: tsaSrv.url }));
      const bundle = await new MessageSignatureBundleBuilder({ signer: signer(id), witnesses }).create({ data: payload });
      const c = bundle.content;
      if (c.$case !== 'messageSignature') throw new Error('expected a message signature bundle');
      return result(bundle, Buffer.from(c.messageSignature.signature));
    },
    async signDsse(payload, payloadType, id) {
      const bundle = await new DSSEBundleBuilder({ signer: signer(id), witnesses: [new RekorWitness({ rekorBaseURL: rekorSrv.url })] }).create({ data: payload, type: payloadType });
      const c = bundle.content;
      if (c.$case !== 'dsseEnvelope') throw new Error('expected a DSSE bundle');
      return result(bundle, Buffer.from(c.dsseEnvelope.signatures[0]!.sig));
    },
    async logEntry(proposed) {
      const entries = await tlog.log(proposed);
      const e = Object.values(entries)[0] as { body: string; integratedTime: number; logIndex: number; logID: string; verification: { signedEntryTimestamp: string } };
      return JSON.stringify({ SignedEntryTimestamp: e.verification.signedEntryTimestamp, Payload: { body: e.body, integratedTime: e.integratedTime, logIndex: e.logIndex, logID: e.logID } });
    },
    async stop() {
      await Promise.all([fulcio.server, rekorSrv.server, tsaSrv.server].map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

// ---------------------------------------------------------------- what @sigstore/mock gets wrong
//
// Two pieces of @sigstore/mock 0.11 produce data no real Sigstore service does,
// so honest verifiers refuse what it signs; these replace them (the Fulcio, TSA
// and HTTP handlers stay @sigstore/mock's):
// - its CT log builds the SCT with pkijs, whose SignedCertificateTimestamp
//   takes the signature as bytes since pkijs 3.3 while the mock passes an ASN.1
//   object: with pkijs 3.4 every embedded SCT has length 0 and an empty
//   signature, and @sigstore/core's SCT parser fails with "request past end of
//   buffer" (any SCT check would);
// - its Rekor gives each entry a random log index but an inclusion proof for
//   index 0 of a one-entry tree, so the proof and the entry never agree; and it
//   logs a proposed `dsse` entry as proposed (the whole envelope) where Rekor
//   logs its canonical form (envelope hash, payload hash, signatures).

/** A CT log issuing RFC 6962 SCTs (v1, precert entries) for the mock Fulcio. */
function correctCTLog(keys: KeyPairKeyObjectResult): { publicKey: Buffer; logID: Buffer; log(cert: ArrayBuffer, issuerID: ArrayBuffer): Promise<ArrayBuffer> } {
  const publicKey = keys.publicKey.export({ format: 'der', type: 'spki' });
  const logID = createHash('sha256').update(publicKey).digest();
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  return {
    publicKey,
    logID,
    async log(preCert, issuerID) {
      // The TBS of the precertificate (no SCT extension yet): what a verifier rebuilds by removing it.
      const tbs = X509Certificate.parse(Buffer.from(preCert)).tbsCertificate.toDER();
      const timestamp = Buffer.alloc(8);
      timestamp.writeBigUInt64BE(BigInt(Date.now()));
      const signed = Buffer.concat([
        Buffer.from([0, 0]), // v1, certificate_timestamp
        timestamp,
        u16(1), // precert_entry
        Buffer.from(issuerID),
        Buffer.from([tbs.length >> 16, (tbs.length >> 8) & 0xff, tbs.length & 0xff]),
        tbs,
        u16(0), // no extensions
      ]);
      const sig = cryptoSign('sha256', signed, keys.privateKey);
      const sct = Buffer.concat([Buffer.from([0]), logID, timestamp, u16(0), Buffer.from([4, 3]), u16(sig.length), sig]); // sha256, ecdsa
      // The mock's CA prefixes the list length itself; it expects the SCT with its own length prefix.
      const out = Buffer.concat([u16(sct.length), sct]);
      return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
    },
  };
}

const leafHash = (leaf: Buffer): Buffer => createHash('sha256').update(Buffer.from([0])).update(leaf).digest();
const nodeHash = (l: Buffer, r: Buffer): Buffer => createHash('sha256').update(Buffer.from([1])).update(l).update(r).digest();
const largestPowerOfTwoBelow = (n: number): number => 2 ** Math.floor(Math.log2(n - 1));

/** RFC 6962 §2.1 MTH over leaf hashes. */
function treeHash(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  const k = largestPowerOfTwoBelow(leaves.length);
  return nodeHash(treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}

/** RFC 6962 §2.1.1 PATH(m, D[n]), leaf-most sibling first. */
function auditPath(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = largestPowerOfTwoBelow(leaves.length);
  return m < k ? [...auditPath(m, leaves.slice(0, k)), treeHash(leaves.slice(k))] : [...auditPath(m - k, leaves.slice(k)), treeHash(leaves.slice(0, k))];
}

const sha256hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** What Rekor stores for a proposed entry (rekor pkg/types/dsse/v0.0.1 Canonicalize; other kinds as proposed). */
function canonicalEntry(proposed: any): object {
  const pc = proposed?.kind === 'dsse' ? proposed.spec?.proposedContent : undefined;
  if (!pc) return proposed;
  const env = JSON.parse(pc.envelope) as { payload: string; signatures: Array<{ sig: string }> };
  return {
    apiVersion: proposed.apiVersion,
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256hex(pc.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256hex(Buffer.from(env.payload, 'base64')) },
      signatures: env.signatures.map((s, i) => ({ signature: s.sig, verifier: pc.verifiers[i] ?? pc.verifiers[0] })),
    },
  };
}

/**
 * A Rekor v1 log as the real one behaves: entries appended to one Merkle tree
 * (which already holds other entries, as a running log does), the log index
 * being the entry's position, and each inclusion proof the audit path to the
 * root that the accompanying checkpoint signs. Implements @sigstore/mock's TLog
 * interface so that its HTTP handler serves it.
 */
class MerkleTLog {
  readonly publicKey: Buffer;
  private readonly logID: Buffer;
  private readonly treeID = randomInt(2 ** 47);
  private readonly leaves: Buffer[];
  constructor(
    private readonly host: string,
    private readonly keys: KeyPairKeyObjectResult,
  ) {
    this.publicKey = keys.publicKey.export({ format: 'der', type: 'spki' });
    this.logID = createHash('sha256').update(this.publicKey).digest();
    this.leaves = Array.from({ length: 1000 + randomInt(1000) }, () => randomBytes(32));
  }

  async log(proposedEntry: object): Promise<any> {
    const body = Buffer.from(sigjson.canonicalize(canonicalEntry(proposedEntry)), 'utf8');
    const logIndex = this.leaves.length;
    this.leaves.push(leafHash(body));
    const integratedTime = Math.floor(Date.now() / 1000);
    const logID = this.logID.toString('hex');
    const set = cryptoSign('sha256', Buffer.from(sigjson.canonicalize({ body: body.toString('base64'), integratedTime, logIndex, logID }), 'utf8'), this.keys.privateKey);
    const treeSize = this.leaves.length;
    const rootHash = treeHash(this.leaves);
    const note = `${this.host} - ${this.treeID}\n${treeSize}\n${rootHash.toString('base64')}\nTimestamp: ${BigInt(Date.now()) * 1_000_000n}\n`;
    const noteSig = Buffer.concat([this.logID.subarray(0, 4), cryptoSign('sha256', Buffer.from(note), this.keys.privateKey)]);
    const checkpoint = `${note}\n\u2014 ${this.host} ${noteSig.toString('base64')}\n`;
    return {
      [randomBytes(32).toString('hex')]: {
        body: body.toString('base64'),
        integratedTime,
        logID,
        logIndex,
        verification: {
          signedEntryTimestamp: set.toString('base64'),
          inclusionProof: { logIndex, treeSize, rootHash: rootHash.toString('hex'), hashes: auditPath(logIndex, this.leaves).map((h) => h.toString('hex')), checkpoint },
        },
      },
    };
  }
}
