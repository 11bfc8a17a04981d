// Loads the addon through the loader `napi build` generates (binding.cjs, next to package.json), or, inside the
// `cairn` single executable, from the copy it carries (executable.ts).
// Only this package's modules import it; the public API is typed by hand in the other files, and the
// compiler checks each hand-written signature against the generated binding.d.cts (Rust is the source).
import { createRequire } from 'node:module';
import { isSea } from 'node:sea';
import { loadFromExecutable } from './executable.js';

type Binding = typeof import('../binding.cjs');

function load(): Binding {
  if (isSea()) return loadFromExecutable<Binding>();
  const require = createRequire(import.meta.url);
  // src-ts/ (vitest, tsx) sits one level below binding.cjs, dist/src-ts/ (compiled) two.
  const candidates = ['../binding.cjs', '../../binding.cjs'];
  for (const path of candidates) {
    try {
      return require(path) as Binding;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'MODULE_NOT_FOUND' || !e.message.includes('binding.cjs')) throw err;
    }
  }
  throw new Error('@cairn/native: binding.cjs not found; build the addon with `npm run build:native -w native`');
}

export const native: Binding = load();
