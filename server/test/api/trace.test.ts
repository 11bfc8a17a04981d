// The trace hub and its subscribers (api/admin/trace.ts) without a server: a subscriber nobody reads keeps at
// most its buffer and counts what it drops (and says so once read again); the hub is active only while someone
// subscribes here or elsewhere; entries lose every credential; Go durations as madmin sends them.
import { describe, expect, it } from 'vitest';
import {
  parseGoDuration,
  redactedHeaders,
  redactedQuery,
  SUBSCRIBER_BUFFER_BYTES,
  type TraceInfo,
  TraceHub,
  type TraceSharing,
  traceEntry,
} from '../../src/api/admin/trace.js';

const everything = { errorsOnly: false, pathPrefix: '', thresholdNs: 0 };

function entry(path: string, status = 200, durMs = 1): TraceInfo {
  return traceEntry('node:9000', {
    funcName: 's3.GetObject',
    method: 'GET',
    rawPath: path,
    rawQuery: '',
    headers: { host: 'node:9000' },
    client: '127.0.0.1',
    httpVersion: '1.1',
    status,
    startedAt: Date.now(),
    startMs: 0,
    firstByteMs: durMs / 2,
    endMs: durMs,
    inputBytes: 0,
    outputBytes: 10,
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<TraceInfo[]> {
  const lines: TraceInfo[] = [];
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  for (const line of text.split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as TraceInfo);
  return lines;
}

describe('TraceHub', () => {
  it('a subscriber that does not read keeps at most its buffer, drops the rest and says how many', async () => {
    const hub = new TraceHub();
    const sub = hub.subscribe(everything);
    const one = JSON.stringify(entry('/b/key-0')).length + 1;
    const n = 10_000;
    for (let i = 0; i < n; i++) hub.publish(entry(`/b/key-${i}`));
    expect(sub.buffered).toBeLessThan(SUBSCRIBER_BUFFER_BYTES + one + 16);
    const kept = Math.ceil(SUBSCRIBER_BUFFER_BYTES / one);
    expect(sub.dropped).toBeGreaterThanOrEqual(n - kept - 1);
    const dropped = sub.dropped;
    // Read what was kept; the next entry comes after a note with the count.
    const reading = readAll(sub.stream);
    await new Promise((r) => setImmediate(r));
    hub.publish(entry('/b/after'));
    sub.close();
    const lines = await reading;
    const note = lines.find((l) => l.funcname === 'cairn.trace.dropped')!;
    expect(note.custom).toEqual({ dropped: String(dropped) });
    expect(lines.at(-1)!.path).toBe('/b/after');
    expect(lines.length).toBe(n - dropped + 2);
  });

  it('is active only while someone traces, here or in another worker', async () => {
    let others: ((on: boolean) => void) | undefined;
    const wants: boolean[] = [];
    const sent: TraceInfo[] = [];
    const sharing: TraceSharing = {
      want: (on) => wants.push(on),
      send: (e) => sent.push(e),
      onEntry: () => {},
      onActive: (f) => (others = f),
    };
    const hub = new TraceHub(sharing);
    expect(hub.active).toBe(false);
    const sub = hub.subscribe(everything);
    expect(hub.active).toBe(true);
    expect(wants).toEqual([true]);
    hub.publish(entry('/b/local'));
    expect(sent).toEqual([]); // nobody elsewhere wants it
    sub.stream.destroy(); // the client went away
    await new Promise((r) => setImmediate(r));
    expect(hub.subscriberCount).toBe(0);
    expect(hub.active).toBe(false);
    expect(wants).toEqual([true, false]);
    others!(true);
    expect(hub.active).toBe(true);
    hub.publish(entry('/b/for-others'));
    expect(sent.map((e) => e.path)).toEqual(['/b/for-others']);
    others!(false);
    expect(hub.active).toBe(false);
  });

  it('filters by status, path prefix and duration', async () => {
    const hub = new TraceHub();
    const sub = hub.subscribe({ errorsOnly: true, pathPrefix: '/logs/', thresholdNs: 5e6 });
    hub.publish(entry('/logs/a', 404, 10));
    hub.publish(entry('/logs/b', 200, 10));
    hub.publish(entry('/data/c', 500, 10));
    hub.publish(entry('/logs/d', 503, 1));
    hub.publish(entry('/logs/e', 500, 6));
    sub.close();
    expect((await readAll(sub.stream)).map((e) => e.path)).toEqual(['/logs/a', '/logs/e']);
  });
});

describe('trace entries hold no credentials', () => {
  it('redacts presigned and STS query values, keeps the rest as sent', () => {
    const q =
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20260101%2Fus-east-1%2Fs3%2Faws4_request' +
      '&X-Amz-Signature=abcdef&x-amz-security-token=tok&versionId=v1&Signature=sig2&AWSAccessKeyId=AK' +
      '&LDAPPassword=pw&WebIdentityToken=jwt&Action=AssumeRoleWithWebIdentity';
    expect(redactedQuery(q)).toBe(
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=*REDACTED*&X-Amz-Signature=*REDACTED*' +
        '&x-amz-security-token=*REDACTED*&versionId=v1&Signature=*REDACTED*&AWSAccessKeyId=*REDACTED*' +
        '&LDAPPassword=*REDACTED*&WebIdentityToken=*REDACTED*&Action=AssumeRoleWithWebIdentity',
    );
    expect(redactedQuery('X-Amz-%53ignature=abc')).toBe('X-Amz-%53ignature=*REDACTED*');
    expect(redactedQuery('')).toBe('');
  });

  it('redacts credential and key headers', () => {
    expect(
      redactedHeaders({
        authorization: 'AWS4-HMAC-SHA256 Credential=AK/..., Signature=abc',
        'x-amz-security-token': 'tok',
        'x-amz-server-side-encryption-customer-key': 'a2V5',
        'x-amz-copy-source-server-side-encryption-customer-key': 'a2V5',
        cookie: 'c=1',
        'x-amz-date': '20260101T000000Z',
        'x-multi': ['a', 'b'],
      }),
    ).toEqual({
      authorization: ['*REDACTED*'],
      'x-amz-security-token': ['*REDACTED*'],
      'x-amz-server-side-encryption-customer-key': ['*REDACTED*'],
      'x-amz-copy-source-server-side-encryption-customer-key': ['*REDACTED*'],
      cookie: ['*REDACTED*'],
      'x-amz-date': ['20260101T000000Z'],
      'x-multi': ['a', 'b'],
    });
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['0s', 0],
    ['100ms', 1e8],
    ['1.5s', 1.5e9],
    ['2m3s', 123e9],
    ['1h', 3600e9],
    ['250us', 250e3],
  ])('%s', (text, ns) => expect(parseGoDuration(text)).toBe(ns));

  it.each(['', '5', 's', '1x', '1s junk', 'x'.repeat(100)])('refuses %j', (text) =>
    expect(parseGoDuration(text)).toBeUndefined(),
  );
});
