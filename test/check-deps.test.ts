import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const script = join(import.meta.dirname, '..', 'scripts', 'check-deps.mjs');

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-deps-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function check(dir: string) {
  const r = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  return r;
}

describe('dependency direction check', () => {
  it('passes the repository itself', () => {
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('accepts the allowed arrows', () => {
    const r = check(
      tree({
        'select-engine/src/a.ts': "import { x } from '@cairn/native';\n",
        'server/src/api/b.ts': "import { y } from '../storage/index.js';\nimport '@cairn/select-engine';\n",
        'server/src/http/c.ts': "export { z } from '../api/b.js';\n",
      }),
    );
    expect(r.status).toBe(0);
  });

  it("lets a package's tests use the shared helpers in test/, but not its sources", () => {
    expect(
      check(tree({ 'server/test/api/x.test.ts': "import { h } from '../../../test/helpers/cairn.js';\n" })).status,
    ).toBe(0);
    const r = check(tree({ 'server/src/api/x.ts': "import { h } from '../../../test/helpers/cairn.js';\n" }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('reaches into test/');
  });

  it('fails when native imports another package', () => {
    const r = check(tree({ 'native/index.ts': "import { s } from '@cairn/server';\n" }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('native/index.ts: imports @cairn/server');
  });

  it('fails when select-engine imports the server', () => {
    const r = check(tree({ 'select-engine/src/x.ts': "const m = await import('@cairn/server');\n" }));
    expect(r.status).toBe(1);
  });

  it('fails when http imports storage, even for a type: the API stands between them', () => {
    const r = check(
      tree({
        'server/src/http/a.ts': "import type { ObjectLayer } from '../storage/object-layer.js';\n",
        'server/src/http/b.ts': "export { x } from '../api/index.js';\n",
      }),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('server/src/http/a.ts: server/src/http must not import server/src/storage');
    expect(r.stderr).not.toContain('http/b.ts');
  });

  it('fails when storage imports http, or reaches into another package by path', () => {
    const r = check(
      tree({
        'server/src/storage/x.ts': "import { app } from '../http/app.js';\n",
        'select-engine/src/y.ts': "import { q } from '../../server/src/index.js';\n",
      }),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('server/src/storage must not import server/src/http');
    expect(r.stderr).toContain('reaches into server/');
  });
});
