// Scraping a test server's Prometheus endpoints through one worker's connection, and reading one sample of a
// scrape parsed by parse-prometheus-text-format (a port of prometheus_client's parser).
import { get } from 'node:http';
import type { ParsedFamily } from 'parse-prometheus-text-format';
import { expect } from 'vitest';
import type { WorkersServer } from './workers.js';

export interface Scrape {
  status: number;
  worker: string | undefined;
  contentType: string | undefined;
  text: string;
}

/** GET `path` through worker `slot`'s connection, with the bearer `token` when given. */
export async function scrape(server: WorkersServer, slot: number, path: string, token?: string): Promise<Scrape> {
  const agent = await server.agent(slot);
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
    get(`${server.url}${path}`, { agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          worker: res.headers['x-cairn-worker'] as string | undefined,
          contentType: res.headers['content-type'],
          text,
        }),
      );
    }).once('error', reject);
  });
}

/** The value of the one sample of `name` with these labels (undefined: no such sample). */
export function sample(
  families: ParsedFamily[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const family = families.find((f) => f.name === name);
  const matches = (family?.metrics ?? []).filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  expect(matches.length).toBeLessThanOrEqual(1);
  return matches[0] === undefined ? undefined : Number(matches[0].value);
}
