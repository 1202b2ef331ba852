/**
 * A lying, flaky registry for tests (issue 12): a node:http proxy on 127.0.0.1
 * in front of the real test registry that injects faults into chosen requests.
 * Rules match a method and a path pattern and fault a window of occurrences
 * (`skip` matching requests pass, the next `times` are faulted), so a test can
 * say "the first GET of this blob is cut after 1000 bytes" or "every GET of the
 * config is a 503". Bodies the faults work on are read whole from the registry
 * first (test images are small), then sent (or not) as the fault says, on the
 * raw socket where HTTP framing itself has to lie.
 *
 * A second listener (`awayHost`, another origin) forwards without faults: the
 * target of a redirect to another host, as blob storage behind a CDN would be.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  /** An error status with a registry-style JSON body; `retryAfter` as sent (seconds or an HTTP date), or computed per request. */
  | { kind: 'status'; status: number; retryAfter?: string | (() => string) }
  /** The real headers, `afterBytes` of the body, then a TCP reset. */
  | { kind: 'reset'; afterBytes: number }
  /** The real headers (full Content-Length), `afterBytes` of the body, then a clean close. */
  | { kind: 'truncate'; afterBytes: number }
  /** Content-Length off by `delta` (too long > 0, too short < 0); the real body, then the connection closes. */
  | { kind: 'content-length'; delta: number }
  /** 307 back to the same URL. */
  | { kind: 'redirect-loop' }
  /** 307 to the same path on another origin (awayHost), which serves it faithfully. */
  | { kind: 'redirect-away' }
  /** The same length, one byte flipped (at `at`, default the middle); `pauseAfter`: send that many bytes, wait 200 ms, send the rest. */
  | { kind: 'flip'; at?: number; pauseAfter?: number }
  /** Nothing at all (no headers), or the headers and `afterBytes` of the body, then silence. */
  | { kind: 'hang'; afterBytes?: number }
  /** The real headers, then the body `bytes` at a time every `everyMs` (never silent long enough to stall). */
  | { kind: 'drip'; bytes: number; everyMs: number }
  /** The request reaches the registry (a write lands), then a TCP reset instead of its answer. */
  | { kind: 'drop' };

export type FaultKind = Fault['kind'];

export interface FaultRule {
  /** Default GET. */
  method?: string;
  /** Matched against the request path (with query). */
  path: RegExp;
  fault: Fault;
  /** Matching requests let through before faulting starts (default 0). */
  skip?: number;
  /** Matching requests faulted after that (default: every one). */
  times?: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
  /** 'main' or 'away' (the redirect target). */
  via: 'main' | 'away';
  /** When it arrived (ms since the epoch). */
  at: number;
  fault?: FaultKind;
}

export interface FaultProxy {
  /** host:port of the proxy, to use in references. */
  readonly host: string;
  /** host:port of the other origin redirects point to. */
  readonly awayHost: string;
  readonly requests: SeenRequest[];
  /** Faults injected so far, by kind (over the proxy's life). */
  readonly injected: Record<FaultKind, number>;
  /** Replaces the rules (and their occurrence counts). */
  setRules(rules: FaultRule[]): void;
  /** Total faults injected so far. */
  injectedTotal(): number;
  close(): Promise<void>;
}

interface LiveRule extends FaultRule {
  seen: number;
  faulted: number;
}

const KINDS: FaultKind[] = ['status', 'reset', 'truncate', 'content-length', 'redirect-loop', 'redirect-away', 'flip', 'hang', 'drip', 'drop'];

/** Headers as a raw HTTP/1.1 head, with Content-Length forced and the connection closed after the body. */
function rawHead(status: number, message: string, headers: IncomingHttpHeaders, contentLength: number): string {
  const lines = [`HTTP/1.1 ${status} ${message}`];
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || ['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)) continue;
    for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
  }
  lines.push(`content-length: ${contentLength}`, 'connection: close');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const [targetHost, targetPort] = target.split(':') as [string, string];
  let rules: LiveRule[] = [];
  const requests: SeenRequest[] = [];
  const injected = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const sockets = new Set<Socket>();
  let host = '';
  let awayHost = '';

  /** The registry's answer to this request, body read whole. */
  const upstream = (req: IncomingMessage, body: Buffer): Promise<{ status: number; message: string; headers: IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const up = httpRequest(
        { host: targetHost, port: Number(targetPort), path: req.url, method: req.method, headers: { ...req.headers, host: target } },
        (ur) => {
          const chunks: Buffer[] = [];
          ur.on('data', (c: Buffer) => chunks.push(c));
          ur.on('end', () => resolve({ status: ur.statusCode ?? 502, message: ur.statusMessage ?? '', headers: ur.headers, body: Buffer.concat(chunks) }));
          ur.on('error', reject);
        },
      );
      up.on('error', reject);
      up.end(body);
    });

  const forward = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const u = await upstream(req, body);
    // Locations the registry sends (upload URLs) name the registry: point them back at the proxy.
    const headers = { ...u.headers };
    if (typeof headers.location === 'string') headers.location = headers.location.replace(`//${target}/`, `//${host}/`);
    res.writeHead(u.status, u.message, headers);
    res.end(u.body);
  };

  const pick = (req: IncomingMessage): LiveRule | undefined => {
    for (const r of rules) {
      if ((r.method ?? 'GET') !== req.method || !r.path.test(req.url ?? '')) continue;
      r.seen++;
      if (r.seen <= (r.skip ?? 0) || r.faulted >= (r.times ?? Infinity)) continue;
      r.faulted++;
      return r;
    }
    return undefined;
  };

  const inject = async (fault: Fault, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const socket = req.socket;
    switch (fault.kind) {
      case 'status': {
        const after = typeof fault.retryAfter === 'function' ? fault.retryAfter() : fault.retryAfter;
        const code = fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE';
        res.writeHead(fault.status, { 'content-type': 'application/json', ...(after !== undefined ? { 'retry-after': after } : {}) });
        res.end(JSON.stringify({ errors: [{ code, message: `fault injected: HTTP ${fault.status}` }] }));
        return;
      }
      case 'redirect-loop':
        res.writeHead(307, { location: `http://${host}${req.url}` });
        res.end();
        return;
      case 'redirect-away':
        res.writeHead(307, { location: `http://${awayHost}${req.url}` });
        res.end();
        return;
      case 'hang':
        if (fault.afterBytes === undefined) return; // never answer; close() ends it
        break;
      default:
        break;
    }
    const u = await upstream(req, body);
    const cut = (n: number): Buffer => u.body.subarray(0, Math.min(n, u.body.length));
    switch (fault.kind) {
      case 'drop':
        socket.resetAndDestroy();
        return;
      case 'reset':
        socket.write(rawHead(u.status, u.message, u.headers, u.body.length));
        socket.write(cut(fault.afterBytes), () => socket.resetAndDestroy());
        return;
      case 'truncate':
        socket.write(rawHead(u.status, u.message, u.headers, u.body.length));
        socket.end(cut(fault.afterBytes));
        return;
      case 'content-length':
        socket.write(rawHead(u.status, u.message, u.headers, Math.max(0, u.body.length + fault.delta)));
        socket.end(u.body);
        return;
      case 'hang':
        socket.write(rawHead(u.status, u.message, u.headers, u.body.length));
        socket.write(cut(fault.afterBytes ?? 0));
        return;
      case 'drip': {
        socket.write(rawHead(u.status, u.message, u.headers, u.body.length));
        let at = 0;
        const tick = setInterval(() => {
          if (socket.destroyed || at >= u.body.length) {
            clearInterval(tick);
            return;
          }
          socket.write(u.body.subarray(at, at + fault.bytes));
          at += fault.bytes;
        }, fault.everyMs);
        socket.once('close', () => clearInterval(tick));
        return;
      }
      case 'flip': {
        const flipped = Buffer.from(u.body);
        const at = Math.min(fault.at ?? flipped.length >> 1, flipped.length - 1);
        if (at >= 0) flipped[at] = flipped[at]! ^ 0xff;
        res.writeHead(u.status, u.message, u.headers);
        if (fault.pauseAfter === undefined) {
          res.end(flipped);
          return;
        }
        res.write(flipped.subarray(0, fault.pauseAfter));
        setTimeout(() => res.end(flipped.subarray(fault.pauseAfter)), 200);
        return;
      }
    }
  };

  const handler =
    (via: 'main' | 'away') =>
    (req: IncomingMessage, res: ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const rule = via === 'main' ? pick(req) : undefined;
        requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          ...(req.headers.range ? { range: req.headers.range } : {}),
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          via,
          at: Date.now(),
          ...(rule ? { fault: rule.fault.kind } : {}),
        });
        if (rule) injected[rule.fault.kind]++;
        (rule ? inject(rule.fault, req, res, body) : forward(req, res, body)).catch(() => req.socket.destroy());
      });
    };

  const listen = async (server: Server): Promise<string> => {
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const main = createServer(handler('main'));
  const away = createServer(handler('away'));
  host = await listen(main);
  awayHost = await listen(away);

  return {
    host,
    awayHost,
    requests,
    injected,
    setRules(next) {
      rules = next.map((r) => ({ ...r, seen: 0, faulted: 0 }));
    },
    injectedTotal: () => Object.values(injected).reduce((a, b) => a + b, 0),
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([main, away].map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
