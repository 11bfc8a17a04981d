// Loads the engine in steps, each in its own turn of the event loop, so that no request of the process waits
// for all of it. Imported whole, the engine is one synchronous stretch of module evaluation (~190 ms of CPU:
// chevrotain ~55, fast-xml-parser ~27, @smithy/eventstream-codec ~26, the scanners ~28, the token set ~21)
// plus the SQL parser's grammar analysis at its first use (~40-70 ms); on 2 loaded cores that held a worker's
// loop for seconds. In steps the longest hold is about one of those pieces. A module evaluated by one step is
// only linked by the later ones (the module cache), so the last import costs little.
import type * as Engine from './index.js';

/** The steps, heaviest dependencies first (literal specifiers: a bundler follows them). */
const STEPS: (() => Promise<unknown>)[] = [
  () => import('chevrotain'),
  () => import('fast-xml-parser'),
  () => import('@smithy/eventstream-codec'),
  () => import('csv-parse'),
  () => import('./sql/tokens.js'),
  () => import('./sql/to-ast.js'),
  () => import('./request.js'),
  () => import('./exec/pipeline.js'),
  () => import('./formats/index.js'),
  () => import('./output/stream.js'),
];

/**
 * The engine, loaded step by step with `pause()` awaited between the steps (e.g. a `setImmediate`), then its
 * SQL parser built (by parsing a statement) in a turn of its own.
 */
export async function loadEngine(pause: () => Promise<void>): Promise<typeof Engine> {
  for (const step of STEPS) {
    await step();
    await pause();
  }
  const engine = await import('./index.js');
  await pause();
  engine.parseSql('SELECT s._1 FROM S3Object s WHERE s._2 = 0');
  return engine;
}
