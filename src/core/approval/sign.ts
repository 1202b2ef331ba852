/**
 * Signing an approval statement: a DSSE envelope (in-toto payload type) in a
 * Sigstore bundle v0.3, built with @sigstore/sign. With a key, offline (the
 * bundle carries the key's hint; `rekorUrl` logs it too); keyless, with a
 * Fulcio certificate for the OIDC token's identity and a Rekor entry (and a
 * TSA timestamp when a TSA is given).
 */
import { sign as cryptoSign } from 'node:crypto';
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, FulcioSigner, RekorWitness, TSAWitness, type Signer, type Witness } from '@sigstore/sign';
import { errorLine, VouchError } from '../errors.js';
import { loadPrivateKey } from './key.js';
import { IN_TOTO_PAYLOAD_TYPE } from './statement.js';

export const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev';

export type ApprovalSigner =
  | { kind: 'key'; keyPath: string; passphrase: string }
  | { kind: 'keyless'; fulcioUrl: string; rekorUrl: string; identityToken: string; tsaUrl?: string };

export async function signApprovalStatement(statement: object, signer: ApprovalSigner, opts: { rekorUrl?: string } = {}): Promise<object> {
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const witnesses: Witness[] = [];
  let s: Signer;
  if (signer.kind === 'key') {
    const { privateKey, publicKey, keyId } = await loadPrivateKey(signer.keyPath, signer.passphrase);
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    s = { sign: async (data) => ({ signature: cryptoSign('sha256', data, privateKey), key: { $case: 'publicKey', publicKey: publicPem, hint: keyId } }) };
    if (opts.rekorUrl) witnesses.push(new RekorWitness({ rekorBaseURL: opts.rekorUrl }));
  } else {
    if (!signer.identityToken) throw new VouchError('USAGE', 'keyless signing needs an OIDC token (--identity-token, SIGSTORE_ID_TOKEN, or the GitHub Actions ID-token environment)');
    const token = signer.identityToken;
    s = new FulcioSigner({ fulcioBaseURL: signer.fulcioUrl, identityProvider: { getToken: async () => token } });
    witnesses.push(new RekorWitness({ rekorBaseURL: opts.rekorUrl ?? signer.rekorUrl }));
    if (signer.tsaUrl) witnesses.push(new TSAWitness({ tsaBaseURL: signer.tsaUrl }));
  }
  try {
    const bundle = await new DSSEBundleBuilder({ signer: s, witnesses }).create({ data: payload, type: IN_TOTO_PAYLOAD_TYPE });
    return bundleToJSON(bundle) as object;
  } catch (e) {
    throw new VouchError('NETWORK_ERROR', `signing the approval failed: ${errorLine(e)}`, { cause: e });
  }
}

/** The OIDC token for keyless signing: the flag, SIGSTORE_ID_TOKEN, else GitHub Actions' ID-token endpoint. */
export async function identityTokenFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (flag) return flag;
  if (env.SIGSTORE_ID_TOKEN) return env.SIGSTORE_ID_TOKEN;
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (url && bearer) {
    const u = new URL(url);
    u.searchParams.set('audience', 'sigstore');
    const res = await fetch(u, { headers: { authorization: `Bearer ${bearer}` } });
    if (!res.ok) throw new VouchError('UNAUTHORIZED', `GitHub Actions ID token request: HTTP ${res.status}`);
    const v = (await res.json()) as { value?: unknown };
    if (typeof v.value !== 'string') throw new VouchError('UNAUTHORIZED', 'GitHub Actions ID token response has no value');
    return v.value;
  }
  throw new VouchError('USAGE', 'keyless signing needs an OIDC token: --identity-token, SIGSTORE_ID_TOKEN, or run in GitHub Actions with id-token: write');
}
