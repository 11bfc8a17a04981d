// Request tracing (MinIO's `mc admin trace`, madmin.TraceInfo lines): the HTTP layer hands each answered request
// to the hub while someone traces (and does nothing else: `active` is one boolean read per request); the hub gives
// it to every local subscriber whose filter takes it, and to the other workers' subscribers over `TraceSharing`.
// A subscriber that reads slower than requests come loses entries (counted and said) rather than growing memory.
// Entries never carry a secret: no Authorization, no signature or credential in a query, no SSE-C key, no body.
import { PassThrough } from 'node:stream';

/** madmin.TraceInfo as JSON (durations in nanoseconds, as Go's time.Duration). */
export interface TraceInfo {
  type: number;
  nodename: string;
  funcname: string;
  time: string;
  path: string;
  dur: number;
  bytes?: number;
  msg?: string;
  error?: string;
  custom?: Record<string, string>;
  http?: {
    request: {
      time: string;
      proto: string;
      method: string;
      path?: string;
      rawquery?: string;
      headers?: Record<string, string[]>;
      client: string;
    };
    response: { time: string; statuscode?: number };
    stats: { inputbytes: number; outputbytes: number; timetofirstbyte: number };
  };
}

/** madmin.TraceS3: the one kind of entry Cairn makes (S3, IAM, STS and admin requests). */
export const TRACE_S3 = 1 << 2;

/** How the other workers' entries reach this process's subscribers (cluster/trace-relay.ts). */
export interface TraceSharing {
  /** This process has subscribers (or no longer): send it the others' entries. */
  want(on: boolean): void;
  /** An entry made here, for the others' subscribers (called only while `onActive` said on). */
  send(entry: TraceInfo): void;
  /** Another process's entry arrives. */
  onEntry(receive: (entry: TraceInfo) => void): void;
  /** Some other process wants this one's entries (or none does any more). */
  onActive(change: (on: boolean) => void): void;
}

export interface TraceFilter {
  /** Only answers with status 400 or more (madmin's `err=true`). */
  errorsOnly: boolean;
  /** Only requests whose path starts with this (Cairn's `path=`). */
  pathPrefix: string;
  /** Only requests that took at least this long, in ns (madmin's `threshold`). */
  thresholdNs: number;
}

const takes = (f: TraceFilter, e: TraceInfo): boolean =>
  (!f.errorsOnly || (e.http?.response.statuscode ?? 0) >= 400) &&
  e.path.startsWith(f.pathPrefix) &&
  e.dur >= f.thresholdNs;

/** Bytes of entries a subscriber may have waiting for its socket; more are dropped (and counted). */
export const SUBSCRIBER_BUFFER_BYTES = 256 * 1024;

/** One subscriber's stream: newline-separated JSON, a blank now and then so a gone client is noticed. */
export class TraceSubscriber {
  readonly stream = new PassThrough();
  dropped = 0;
  private keepAlive: NodeJS.Timeout;

  constructor(
    readonly filter: TraceFilter,
    private readonly limit = SUBSCRIBER_BUFFER_BYTES,
  ) {
    this.keepAlive = setInterval(() => this.write(' '), 1000).unref();
  }

  /** Writes the entry unless the client is behind; the next entry it takes says how many it lost. */
  offer(entry: TraceInfo): void {
    if (!takes(this.filter, entry)) return;
    if (this.behind()) {
      this.dropped++;
      return;
    }
    if (this.dropped > 0) {
      this.write(`${JSON.stringify(droppedNote(entry.nodename, this.dropped))}\n`);
      this.dropped = 0;
    }
    this.write(`${JSON.stringify(entry)}\n`);
  }

  /** Bytes written that the socket has not taken yet. */
  get buffered(): number {
    return this.stream.writableLength + this.stream.readableLength;
  }

  private behind(): boolean {
    return this.buffered >= this.limit;
  }

  private write(text: string): void {
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.write(text);
  }

  close(): void {
    clearInterval(this.keepAlive);
    this.stream.end();
  }
}

function droppedNote(nodename: string, count: number): TraceInfo {
  const now = new Date().toISOString();
  return {
    type: TRACE_S3,
    nodename,
    funcname: 'cairn.trace.dropped',
    time: now,
    path: '',
    dur: 0,
    msg: `${count} trace entries dropped: the client read too slowly`,
    custom: { dropped: String(count) },
  };
}

export class TraceHub {
  private readonly subscribers = new Set<TraceSubscriber>();
  private othersWant = false;
  /** Someone, here or in another worker, wants entries: the HTTP layer builds them only then. */
  active = false;
  /** `host:port` this server answers on (set once it listens). */
  nodeName = '';

  constructor(private readonly sharing?: TraceSharing) {
    sharing?.onEntry((e) => {
      for (const s of this.subscribers) s.offer(e);
    });
    sharing?.onActive((on) => {
      this.othersWant = on;
      this.update();
    });
  }

  /** A request answered here. */
  publish(entry: TraceInfo): void {
    for (const s of this.subscribers) s.offer(entry);
    if (this.othersWant) this.sharing?.send(entry);
  }

  /** A new subscriber; its stream ends (and it is forgotten) once the client goes or `close()` is called. */
  subscribe(filter: TraceFilter): TraceSubscriber {
    const sub = new TraceSubscriber(filter);
    this.subscribers.add(sub);
    if (this.subscribers.size === 1) this.sharing?.want(true);
    this.update();
    sub.stream.once('close', () => this.unsubscribe(sub));
    return sub;
  }

  /** Ends every subscriber's stream (the server closes: a trace left open must not hold a graceful stop). */
  endAll(): void {
    for (const s of this.subscribers) s.close();
  }

  /** How many subscribers this process has (tests). */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  private unsubscribe(sub: TraceSubscriber): void {
    sub.close();
    if (!this.subscribers.delete(sub)) return;
    if (this.subscribers.size === 0) this.sharing?.want(false);
    this.update();
  }

  private update(): void {
    this.active = this.subscribers.size > 0 || this.othersWant;
  }
}

/** Query parameters whose values are credentials (presigned SigV4 and SigV2, STS logins): never traced. */
const SECRET_PARAMS = new Set([
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'signature',
  'awsaccesskeyid',
  'ldappassword',
  'webidentitytoken',
  'token',
]);

/** Headers that carry credentials or keys: never traced. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-amz-security-token',
  'x-amz-server-side-encryption-customer-key',
  'x-amz-copy-source-server-side-encryption-customer-key',
]);

const REDACTED = '*REDACTED*';

/** The query string as sent, with the values of credential parameters replaced. */
export function redactedQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  return rawQuery
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // a malformed escape: the name as sent
      }
      return eq >= 0 && SECRET_PARAMS.has(decoded.toLowerCase()) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
}

/** The request headers without credentials (madmin's http.Header: name -> values). */
export function redactedHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = SECRET_HEADERS.has(name) ? [REDACTED] : Array.isArray(value) ? value : [value];
  }
  return out;
}

/** What the HTTP layer knows of one answered request. */
export interface AnsweredRequest {
  funcName: string;
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  client: string;
  httpVersion: string;
  status: number;
  /** Wall-clock start, and monotonic ms at start, at the first byte of the answer, and at its end. */
  startedAt: number;
  startMs: number;
  firstByteMs: number;
  endMs: number;
  inputBytes: number;
  outputBytes: number;
}

const ns = (ms: number): number => Math.round(ms * 1e6);

/** A madmin.TraceInfo of a request, without secrets. */
export function traceEntry(nodeName: string, r: AnsweredRequest): TraceInfo {
  let path = r.rawPath;
  try {
    path = decodeURIComponent(r.rawPath);
  } catch {
    // a malformed escape: the path as sent
  }
  const start = new Date(r.startedAt).toISOString();
  const end = new Date(r.startedAt + (r.endMs - r.startMs)).toISOString();
  return {
    type: TRACE_S3,
    nodename: nodeName,
    funcname: r.funcName,
    time: start,
    path,
    dur: ns(r.endMs - r.startMs),
    http: {
      request: {
        time: start,
        proto: `HTTP/${r.httpVersion}`,
        method: r.method,
        path,
        rawquery: redactedQuery(r.rawQuery),
        headers: redactedHeaders(r.headers),
        client: r.client,
      },
      response: { time: end, statuscode: r.status },
      stats: {
        inputbytes: r.inputBytes,
        outputbytes: r.outputBytes,
        timetofirstbyte: ns(r.firstByteMs - r.startMs),
      },
    },
  };
}

/** A Go duration as madmin sends `threshold` ("100ms", "1.5s", "2m"), in ns; undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0' || text === '0s') return 0;
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let rest = text;
  if (rest === '' || rest.length > 64) return undefined;
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}
