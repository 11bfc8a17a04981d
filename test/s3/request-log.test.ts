// Per-request log lines ("incoming request", "request completed") are debug lines: at the default level (info) a
// request writes nothing, at debug both lines; a 5xx is still an error line at info (http/request-log.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '@cairn/server';
import { RequestLog } from '../../server/src/http/request-log.js';
import { signedFetch } from '../helpers/signed-request.js';

type Line = { level: number; msg?: string; reqId?: string; req?: { url?: string }; res?: { statusCode?: number } };

/** A pino logger at `level` whose lines are kept in `lines`. */
function memoryLogger(level: string) {
  const lines: Line[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  return { logger, lines };
}

const REQUEST_LINES = ['incoming request', 'request completed'];
const requestLines = (lines: Line[]) => lines.filter((l) => REQUEST_LINES.includes(String(l.msg)));

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A Cairn server logging into memory at `level`; a few requests (one refused); the lines once it is closed. */
async function serveAndLog(level: string): Promise<Line[]> {
  const base = await mkdtemp(join(tmpdir(), 'cairn-reqlog-'));
  dirs.push(base);
  const { logger, lines } = memoryLogger(level);
  const root = { accessKey: 'reqlog', secretKey: 'reqlog-secret-key' };
  const server = await startServer({
    drives: [join(base, 'd{1...4}')],
    address: '127.0.0.1:0',
    credentials: { root },
    logger,
  });
  try {
    const call = (method: string, path: string, body?: string) =>
      signedFetch(server.url, { method, path, body, credentials: root });
    expect((await call('PUT', '/logged')).status).toBe(200);
    expect((await call('PUT', '/logged/key', 'hello')).status).toBe(200);
    expect((await call('GET', '/logged/key')).text).toBe('hello');
    expect((await call('GET', '/logged/missing')).status).toBe(404);
  } finally {
    // Closing waits for every answer to finish, so every line a request writes is in by now.
    await server.close();
  }
  return lines;
}

describe('request log lines', () => {
  it('are not written at the default level (info)', async () => {
    const lines = await serveAndLog('info');
    expect(lines.length).toBeGreaterThan(0); // the logger works: start-up lines
    expect(requestLines(lines)).toEqual([]);
  });

  it('are written at debug: an incoming and a completed line per request, with its id and status', async () => {
    const lines = await serveAndLog('debug');
    const incoming = lines.filter((l) => l.msg === 'incoming request');
    const completed = lines.filter((l) => l.msg === 'request completed');
    expect(incoming.map((l) => l.req?.url)).toEqual(['/logged', '/logged/key', '/logged/key', '/logged/missing']);
    expect(completed.map((l) => l.res?.statusCode)).toEqual([200, 200, 200, 404]);
    expect(completed.map((l) => l.reqId)).toEqual(incoming.map((l) => l.reqId));
    expect(new Set(incoming.map((l) => l.level))).toEqual(new Set([pino.levels.values.debug]));
  });

  it("keeps a server error (5xx) at error level and leaves a client's 4xx to debug", async () => {
    const { logger, lines } = memoryLogger('info');
    const app = Fastify({ loggerInstance: logger, logController: new RequestLog() });
    app.get('/boom', async () => {
      throw new Error('disk on fire');
    });
    app.get('/refused', async () => {
      throw Object.assign(new Error('not for you'), { statusCode: 403 });
    });
    try {
      expect((await app.inject('/boom')).statusCode).toBe(500);
      expect((await app.inject('/refused')).statusCode).toBe(403);
      expect((await app.inject('/nowhere')).statusCode).toBe(404);
    } finally {
      await app.close();
    }
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[pino.levels.values.error, 'disk on fire']]);
  });
});
