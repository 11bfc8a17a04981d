// The server package's version (what `cairn --version` prints and the admin API reports), from its
// package.json; the single executable has it built in (scripts/build-binary.mjs defines CAIRN_VERSION), as it
// carries no package.json.
import { readFileSync } from 'node:fs';

declare const CAIRN_VERSION: string | undefined;

let version: string | undefined;

export function serverVersion(): string {
  if (typeof CAIRN_VERSION === 'string') return CAIRN_VERSION;
  version ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
  return version;
}
