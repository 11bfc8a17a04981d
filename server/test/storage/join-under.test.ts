// joinUnder (local-drive.ts): a drive's absolute paths, made by appending a plain relative path to the root
// instead of path.join's normalization, must be exactly path.join's, for every relative path and root.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { joinUnder, rootPrefix } from '../../src/storage/drive/local-drive.js';

/** Every string of up to `n` characters over `alphabet`. */
function* strings(alphabet: string[], n: number): Generator<string> {
  yield '';
  if (n === 0) return;
  for (const s of strings(alphabet, n - 1)) if (s.length === n - 1) for (const c of alphabet) yield s + c;
}

const ROOTS = ['/', '/dev/shm/d1', '/dev/shm/d1/', '/a/./b//c/', '/a/b/../c', 'rel/root', '.', './', '', 'a/..', '..'];

describe('joinUnder', () => {
  it('is path.join(root, rel) for every path of up to 7 characters over a . / and every kind of root', () => {
    let checked = 0;
    let appended = 0;
    for (const root of ROOTS) {
      const prefix = rootPrefix(root);
      for (let n = 0; n <= 7; n++)
        for (const rel of strings(['a', '.', '/'], n)) {
          if (rel.length !== n) continue;
          const got = joinUnder(root, prefix, rel);
          if (got !== join(root, rel)) expect({ root, rel, got }).toEqual({ root, rel, got: join(root, rel) });
          if (prefix !== undefined && got === prefix + rel) appended++;
          checked++;
        }
    }
    expect(checked).toBeGreaterThan(30_000);
    // The fast path is taken (not everything joined), and the roots that join to `.` or `` have none.
    expect(appended).toBeGreaterThan(1000);
    expect([rootPrefix('.'), rootPrefix(''), rootPrefix('a/..')]).toEqual([undefined, undefined, undefined]);
  });

  it('appends the paths storage makes', () => {
    const prefix = rootPrefix('/dev/shm/d1');
    expect(prefix).toBe('/dev/shm/d1/');
    for (const rel of ['.cairn.sys/tmp/1b9d6bcd', 'bucket/photos%2F2024/x.jpg/xl.meta', 'b/k/.v/part.1'])
      expect(joinUnder('/dev/shm/d1', prefix, rel)).toBe(`/dev/shm/d1/${rel}`);
  });
});
