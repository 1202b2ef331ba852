/**
 * Local Sigstore services for tests: Fulcio, Rekor and a timestamp authority
 * built from @sigstore/mock's exported handlers, served with node:http on
 * 127.0.0.1 (real HTTP, no interception), and keyless signing against them
 * with @sigstore/sign. `trustedRoot` is the matching trusted_root.json.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, initializeTSA, rekorHandler, tsaHandler, type HandlerFn } from '@sigstore/mock';
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

export async function startSigstoreServices(opts: { caOnly?: boolean } = {}): Promise<SigstoreServices> {
  const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctlog = await initializeCTLog(ec());
  const ca = await initializeCA(ec(), ctlog);
  const fulcio = await serve({ '/api/v2/signingCert': fulcioHandler(ca).fn });
  const rekorHolder: { url?: string } = {};
  const tlogKeys = ec();
  const rekorSrv = await serve({});
  rekorHolder.url = rekorSrv.url;
  const tlog = await initializeTLog(rekorSrv.url, tlogKeys);
  rekorSrv.server.removeAllListeners('request');
  const rekorFn = rekorHandler(tlog).fn;
  rekorSrv.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if ((req.url ?? '').split('?')[0] !== '/api/v1/log/entries' || req.method !== 'POST') return void res.writeHead(404).end();
      rekorFn(Buffer.concat(chunks).toString('utf8')).then((r) => res.writeHead(r.statusCode, { 'content-type': 'application/json' }).end(r.response));
    });
  });
  const tsa = await initializeTSA(ec());
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

/**
 * @sigstore/mock's Rekor returns an inclusion proof computed for index 0 of a
 * one-entry tree while the entry carries a random log index: no honest
 * verifier accepts that proof. Its signed entry timestamp is sound, so tests
 * that need a verifiable bundle use the v0.1 form, where the SET alone is the
 * log evidence (x509CertificateChain, no inclusion proof).
 */
export function asV01Bundle(json: any): any {
  const vm = json.verificationMaterial;
  const certs = vm.x509CertificateChain?.certificates ?? (vm.certificate ? [vm.certificate] : []);
  const { certificate: _c, x509CertificateChain: _x, ...rest } = vm;
  return {
    ...json,
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      ...rest,
      x509CertificateChain: { certificates: certs },
      tlogEntries: vm.tlogEntries.map(({ inclusionProof: _p, ...e }: any) => e),
    },
  };
}
