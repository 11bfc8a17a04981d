// loadEngine: the engine in steps, each followed by the caller's pause (a turn of the event loop in the server),
// the SQL parser built at the end, the same module as a plain import gives.
import { expect, it } from 'vitest';
import { loadEngine } from '../src/load.js';

it('loads the engine in steps with a pause after each, then builds the SQL parser', async () => {
  let pauses = 0;
  const engine = await loadEngine(async () => {
    pauses++;
  });
  // Ten module steps and the index, each followed by a pause, before the parser's turn.
  expect(pauses).toBe(11);
  expect(engine).toBe(await import('../src/index.js'));
  const stmt = engine.parseSql("SELECT s._1 FROM S3Object s WHERE s._2 = 'x'");
  expect(stmt.select).toHaveLength(1);
  expect(stmt.where).toBeDefined();
});
