// The install script (scripts/build-native.mjs) in a copy of the package without a binary: with no
// cargo on PATH it must stop with a message naming what is missing; with this platform's prebuilt
// binary present it must not need cargo at all.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const root = mkdtempSync(join(tmpdir(), 'cairn-native-build-'));
const copy = join(root, 'native');
const emptyBin = join(root, 'empty-bin');
cpSync(join(pkg, 'scripts'), join(copy, 'scripts'), { recursive: true });
cpSync(join(pkg, 'package.json'), join(copy, 'package.json'));
cpSync(join(pkg, 'package.json'), join(emptyBin, '.keep')); // an existing directory with no cargo in it

afterAll(() => rmSync(root, { recursive: true, force: true }));

function runScript(...args: string[]) {
  return spawnSync(process.execPath, [join(copy, 'scripts', 'build-native.mjs'), ...args], {
    cwd: copy,
    env: { PATH: emptyBin, HOME: root },
    encoding: 'utf8',
  });
}

describe('build-native.mjs', () => {
  it('without a prebuilt binary and without cargo, fails saying Rust is missing', () => {
    const r = runScript();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no prebuilt binary for ${process.platform}-${process.arch} and no Rust toolchain`);
    expect(r.stderr).toContain('https://rustup.rs');
    expect(r.stderr).toContain('`cargo` must be on PATH');
  });

  it("with this platform's prebuilt binary, succeeds without cargo", () => {
    const binary = join(copy, `cairn-native.${process.platform}-${process.arch}-test.node`);
    writeFileSync(binary, 'not really a binary');
    try {
      const r = runScript();
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('using prebuilt');
      expect(runScript('--force').status).toBe(1); // --force always compiles, so it needs cargo
    } finally {
      rmSync(binary);
    }
  });

  it("ignores another platform's binary", () => {
    const other = join(copy, `cairn-native.${process.platform === 'win32' ? 'linux' : 'win32'}-x64-msvc.node`);
    writeFileSync(other, 'x');
    try {
      expect(runScript().status).toBe(1);
    } finally {
      rmSync(other);
    }
  });
});
