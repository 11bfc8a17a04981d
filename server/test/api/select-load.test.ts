// The select engine is loaded off the request path (api/select-load.ts): not by an idle server, and after the
// server's first request only in a window where its event loop was quiet, so no Select waits for it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it, vi } from 'vitest';
import { preloadSelectEngine, selectEngine, selectEngineStarted } from '../../src/api/select-load.js';

const server = createServer((_req, res) => res.end('ok'));
afterAll(() => new Promise((resolve) => server.close(resolve)));

it('is loaded after the first request once the loop is quiet, not while idle or busy', async () => {
  preloadSelectEngine(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  // No request yet: an idle server keeps its memory (the check window is 1 s).
  await new Promise((resolve) => setTimeout(resolve, 1200));
  expect(selectEngineStarted()).toBe(false);

  expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
  // The loop held for longer than the window: that window was busy, so nothing loads in it.
  const until = performance.now() + 1500;
  while (performance.now() < until);
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(selectEngineStarted()).toBe(false);

  // The next window is quiet: the engine loads without any Select.
  await vi.waitFor(() => expect(selectEngineStarted()).toBe(true), { timeout: 30_000, interval: 50 });
  const engine = await selectEngine();
  expect(engine.parseSql('SELECT * FROM S3Object').select).toBe('*');
});
