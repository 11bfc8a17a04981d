// Builds the console into dist/: index.html, one script and one style sheet, each named by a hash of its content
// (so the server lets browsers cache them for a year), and prints their gzipped size.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const here = new URL('.', import.meta.url);
const dist = new URL('dist/', here);

const result = await esbuild.build({
  entryPoints: [new URL('src/main.tsx', here).pathname],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
});
const js = result.outputFiles[0].contents;
const css = await readFile(new URL('static/app.css', here));
const named = (stem, ext, bytes) => `${stem}-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}.${ext}`;
const jsName = named('app', 'js', js);
const cssName = named('app', 'css', css);
const html = (await readFile(new URL('static/index.html', here), 'utf8'))
  .replace('{{js}}', `./${jsName}`)
  .replace('{{css}}', `./${cssName}`);

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await writeFile(new URL(jsName, dist), js);
await writeFile(new URL(cssName, dist), css);
await writeFile(new URL('index.html', dist), html);

const gz = (b) => gzipSync(b).length;
const total = gz(js) + gz(css) + gz(Buffer.from(html));
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`console: ${jsName} ${kib(js.length)} (${kib(gz(js))} gzipped), ${cssName} ${kib(gz(css))} gzipped;`);
console.log(`console: ${kib(total)} gzipped in all (target < 1 MiB)`);
