// A malicious hub for tests: the real hub (in-process `app.request`, or a `clawkeep hub` process) behind a layer
// that the test programs to rewrite, replay or withhold answers, as a hub operator who controls the server could.
// Every "the hub cannot ..." claim in docs/threat-model.md is proven with it: the test arms an attack, runs the real
// client against it, and asserts the client refuses. Removing the client's defence must make that test fail.
//
// Two faces over one rule engine:
//   - `fetch`: a FetchLike for in-process tests (agent SDK, HubService, sync engine, device pairing);
//   - `listen()`: an HTTP reverse proxy on 127.0.0.1 for end-to-end tests with the built extension. The real hub
//     behind it must be told that its public origin is the proxy's (it signs and checks statements for it).
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the attacker sees of one request. `path` includes the query string. */
export interface HubRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** One answer as the attacker holds it: status, headers and the whole body as text. */
export interface HubAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A request and the answer the client got (after any tampering). */
export interface Exchange {
  request: HubRequest;
  /** What the real hub answered, or undefined when the attack answered without asking it. */
  upstream: HubAnswer | undefined;
  answer: HubAnswer;
}

/** `'GET /v1/pairings/:id'`, `'POST /v1/intents/*'`, `'* /v1/events'`, or a predicate. Query strings are ignored. */
export type Route = string | ((request: HubRequest) => boolean);

type Respond = (request: HubRequest, upstream: () => Promise<HubAnswer>) => Promise<HubAnswer> | HubAnswer;

interface Rule {
  name: string;
  matches: (request: HubRequest) => boolean;
  respond: Respond;
  /** How many more requests it handles; Infinity = until removed. */
  remaining: number;
  hits: number;
}

/** Handle on an armed attack: how often it fired, and a way to stop it. */
export interface Attack {
  readonly name: string;
  readonly hits: number;
  stop(): void;
}

/** The real hub, as the layer reaches it. */
export type Upstream = (request: HubRequest) => Promise<Response>;

/** The shape the agent SDK and the extension's hub clients take. */
export type FetchLike = (
  url: string,
  init?: { method?: string; headers?: Record<string, string> | Headers; body?: string | null },
) => Promise<Response>;

const SSE = 'text/event-stream';

function routeMatcher(route: Route): (request: HubRequest) => boolean {
  if (typeof route === 'function') return route;
  const m = /^(\*|[A-Z]+) (\/\S*)$/.exec(route);
  if (!m) throw new TypeError(`route must look like "GET /v1/path/:param", got "${route}"`);
  const [, method, pattern] = m;
  const re = new RegExp(
    `^${pattern!
      .split('/')
      .map((seg) => (seg === '*' || seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')}$`,
  );
  return (request) => (method === '*' || request.method === method) && re.test(request.path.split('?')[0]!);
}

function headersObject(headers: Headers | Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  if (headers instanceof Headers) headers.forEach((v, k) => (out[k] = v));
  else for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

async function toAnswer(res: Response): Promise<HubAnswer> {
  return { status: res.status, headers: headersObject(res.headers), body: await res.text() };
}

function toResponse(answer: HubAnswer): Response {
  const headers = { ...answer.headers };
  delete headers['content-length'];
  const nullBody = answer.status === 204 || answer.status === 304;
  return new Response(nullBody ? null : answer.body, { status: answer.status, headers });
}

/** A JSON answer; `status` defaults to 200. */
export function jsonAnswer(json: unknown, status = 200): HubAnswer {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) };
}

export class MaliciousHub {
  readonly #upstream: Upstream;
  readonly #rules: Rule[] = [];
  /** Every exchange that passed through, oldest first (event streams are recorded without their body). */
  readonly exchanges: Exchange[] = [];

  constructor(upstream: Upstream) {
    this.#upstream = upstream;
  }

  /** Over an in-process hub: `hub.app.request` (Hono) or any fetch-shaped function that takes a path. */
  static inProcess(request: (path: string, init: RequestInit) => Response | Promise<Response>): MaliciousHub {
    return new MaliciousHub(async (r) => request(r.path, { method: r.method, headers: r.headers, body: r.body }));
  }

  /**
   * Over a hub listening at `hubUrl` (http, loopback); the Host header is passed through as a reverse proxy does.
   * `hubUrl` may be a function: the proxy usually listens first, so that the hub can be started with
   * `--public-origin <proxy url>`.
   */
  static overHttp(hubUrl: string | (() => string)): MaliciousHub {
    return new MaliciousHub(
      (r) =>
        new Promise<Response>((resolve, reject) => {
          const target = new URL(typeof hubUrl === 'string' ? hubUrl : hubUrl());
          const req = httpRequest(
            { host: target.hostname, port: target.port, method: r.method, path: r.path, headers: r.headers },
            (res) => {
              const headers = new Headers();
              for (const [k, v] of Object.entries(res.headers))
                if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
              const stream = new ReadableStream<Uint8Array>({
                start(controller) {
                  res.on('data', (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)));
                  res.on('end', () => controller.close());
                  res.on('error', (err) => controller.error(err));
                },
                cancel() {
                  res.destroy();
                },
              });
              const nullBody = res.statusCode === 204 || res.statusCode === 304;
              resolve(new Response(nullBody ? null : stream, { status: res.statusCode ?? 502, headers }));
            },
          );
          req.on('error', reject);
          req.end(r.body);
        }),
    );
  }

  #arm(name: string, route: Route, respond: Respond, times = Infinity): Attack {
    const rule: Rule = { name, matches: routeMatcher(route), respond, remaining: times, hits: 0 };
    // Newest first: a later, more specific attack takes precedence over an earlier, broader one.
    this.#rules.unshift(rule);
    return {
      name,
      get hits() {
        return rule.hits;
      },
      stop: () => {
        const i = this.#rules.indexOf(rule);
        if (i >= 0) this.#rules.splice(i, 1);
      },
    };
  }

  /**
   * Edits the JSON body of the real hub's answers to `route`. `edit` may mutate the parsed body in place or return
   * a replacement. The request still reaches the hub (its side effects happen); only the answer is forged.
   */
  rewriteJson(route: Route, edit: (json: any, request: HubRequest) => unknown, times?: number): Attack {
    return this.#arm(
      `rewrite ${String(route)}`,
      route,
      async (request, upstream) => {
        const real = await upstream();
        const json = JSON.parse(real.body);
        const replaced = edit(json, request);
        return { ...real, body: JSON.stringify(replaced === undefined ? json : replaced) };
      },
      times,
    );
  }

  /** Edits the request before the hub sees it (e.g. swap a key the client uploads). Signed requests will then fail the hub's check unless the edit leaves the signed parts alone. */
  rewriteRequest(route: Route, edit: (request: HubRequest) => HubRequest | void, times?: number): Attack {
    return this.#arm(
      `rewrite request ${String(route)}`,
      route,
      (request, upstream) => {
        const changed = edit(request);
        if (changed) Object.assign(request, changed);
        return upstream();
      },
      times,
    );
  }

  /** Answers `route` with `answer` (e.g. an earlier exchange's) without asking the hub. */
  replay(route: Route, answer: HubAnswer | Exchange, times?: number): Attack {
    const recorded = 'answer' in answer ? answer.answer : answer;
    return this.#arm(`replay ${String(route)}`, route, () => structuredClone(recorded), times);
  }

  /** Answers `route` itself: `respond` gets the request and a way to ask the real hub. */
  answer(route: Route, respond: Respond, times?: number): Attack {
    return this.#arm(`answer ${String(route)}`, route, respond, times);
  }

  /**
   * Withholds: the hub never sees the request and the client gets `status` (default 503, `unavailable`), as a hub
   * that drops a decision, a revocation or an audit entry would answer.
   */
  withhold(route: Route, status = 503, times?: number): Attack {
    return this.#arm(
      `withhold ${String(route)}`,
      route,
      () => jsonAnswer({ error: { code: 'unavailable', message: 'Service unavailable.' } }, status),
      times,
    );
  }

  /** The last exchange whose request matched `route`, if any. */
  last(route: Route): Exchange | undefined {
    const matches = routeMatcher(route);
    for (let i = this.exchanges.length - 1; i >= 0; i--)
      if (matches(this.exchanges[i]!.request)) return this.exchanges[i];
    return undefined;
  }

  /** Disarms every attack (the recorded exchanges stay). */
  reset(): void {
    this.#rules.length = 0;
  }

  /** Runs one request through the armed attacks. Event streams pass through unbuffered unless an attack claims them. */
  async handle(request: HubRequest): Promise<Response> {
    const rule = this.#rules.find((r) => r.remaining > 0 && r.matches(request));
    let upstreamAnswer: HubAnswer | undefined;
    const upstream = async () => (upstreamAnswer = await toAnswer(await this.#upstream(request)));
    if (!rule) {
      const res = await this.#upstream(request);
      if (res.headers.get('content-type')?.startsWith(SSE)) {
        this.exchanges.push({
          request,
          upstream: undefined,
          answer: { status: res.status, headers: headersObject(res.headers), body: '' },
        });
        return res;
      }
      const answer = await toAnswer(res);
      this.exchanges.push({ request, upstream: answer, answer });
      return toResponse(answer);
    }
    rule.remaining--;
    rule.hits++;
    const answer = await rule.respond(request, upstream);
    this.exchanges.push({ request, upstream: upstreamAnswer, answer });
    return toResponse(answer);
  }

  /** The in-process face: pass this as the client's `fetch`. Only the path and query of `url` are used. */
  readonly fetch: FetchLike = async (url, init = {}) => {
    const u = new URL(url, 'http://hub.invalid');
    const body = init.body ?? undefined;
    return this.handle({
      method: (init.method ?? 'GET').toUpperCase(),
      path: u.pathname + u.search,
      headers: headersObject(init.headers),
      body: body === null ? undefined : body,
    });
  };

  /** The end-to-end face: a reverse proxy on 127.0.0.1 and a free port. */
  async listen(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => void this.#serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const body = chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined;
      const answer = await this.handle({ method: req.method ?? 'GET', path: req.url ?? '/', headers, body });
      const outHeaders: Record<string, string> = {};
      answer.headers.forEach((v, k) => {
        if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') outHeaders[k] = v;
      });
      res.writeHead(answer.status, outHeaders);
      if (!answer.body) return void res.end();
      const reader = answer.body.getReader();
      res.on('close', () => void reader.cancel().catch(() => {}));
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        res.write(value);
      }
      res.end();
    } catch {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unavailable', message: 'Bad gateway.' } }));
    }
  }
}
