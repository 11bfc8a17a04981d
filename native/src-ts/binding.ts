// Loads the addon through the loader `napi build` generates (binding.cjs, next to package.json).
// Only this package's modules import it; the public API is typed by hand in the other files, and the
// compiler checks each hand-written signature against the generated binding.d.cts (Rust is the source).
import { createRequire } from 'node:module';

type Binding = typeof import('../binding.cjs');

const require = createRequire(import.meta.url);

function load(): Binding {
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
