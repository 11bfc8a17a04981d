#!/usr/bin/env node
// Keeps the arrows of docs/ARCHITECTURE.md ("Layers and arrows") honest: server -> select-engine -> native,
// server -> native, and inside server http -> api -> storage (http reaches storage only through the API: it
// authenticates, the API authorizes). Fails (exit 1) naming each import that points the wrong way.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// An optional argument names another tree to check (the test of this script uses it).
const root = process.argv[2] ? resolve(process.argv[2]) : resolve(dirname(fileURLToPath(import.meta.url)), '..');

// package -> packages it may import
const allowedPackages = {
  native: [],
  'select-engine': ['@cairn/native'],
  server: ['@cairn/native', '@cairn/select-engine'],
  bench: ['@cairn/native', '@cairn/select-engine', '@cairn/server'],
  test: ['@cairn/native', '@cairn/select-engine', '@cairn/server'],
  console: [],
};
// server/src layer -> server/src layers it must not import
const forbiddenLayers = {
  storage: ['http', 'api', 'cli', 'cluster'],
  api: ['http', 'cli', 'cluster'],
  http: ['storage', 'cli', 'cluster'],
  cluster: ['cli', 'api'],
};

function* sourceFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist' || name === 'target' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sourceFiles(p);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) yield p;
  }
}

const importRe =
  /(?:^|[\s;])(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
const problems = [];

for (const [pkg, allowed] of Object.entries(allowedPackages)) {
  for (const file of sourceFiles(join(root, pkg))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const rel = relative(root, file);
      if (spec.startsWith('@cairn/')) {
        const target = spec.split('/').slice(0, 2).join('/');
        if (!allowed.includes(target))
          problems.push(`${rel}: imports ${spec}, but ${pkg} may import only [${allowed.join(', ')}]`);
      } else if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        const targetPkg = relative(root, target).split(sep)[0];
        // A package's own tests may share the cross-package test helpers in test/ (they are not product code).
        const testHelper = targetPkg === 'test' && rel.split(sep).includes('test');
        if (targetPkg !== pkg && targetPkg !== '..' && pkg !== 'test' && pkg !== 'bench' && !testHelper) {
          problems.push(`${rel}: reaches into ${targetPkg}/ by relative path (${spec}); import the package instead`);
        }
        if (pkg === 'server') {
          const fromLayer = relative(join(root, 'server', 'src'), file).split(sep)[0];
          const toLayer = relative(join(root, 'server', 'src'), target).split(sep)[0];
          if ((forbiddenLayers[fromLayer] ?? []).includes(toLayer)) {
            problems.push(`${rel}: server/src/${fromLayer} must not import server/src/${toLayer} (${spec})`);
          }
        }
      }
    }
  }
}

if (problems.length) {
  console.error(`Dependency direction check failed (the arrows: docs/ARCHITECTURE.md):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('Dependency direction check: ok');
