// SharedBytes (src/shared_bytes.rs): values copied in and out under a key with a tag, within a space's byte bound
// (each value at most a quarter of it) and time, oldest dropped first; one space per name in the process.
import { describe, expect, it } from 'vitest';
import { SharedBytes } from '../index.js';

describe('SharedBytes', () => {
  it('gives back a copy of what was put, with its tag', () => {
    const s = new SharedBytes('test copy', 1024, 60_000);
    const piece = Buffer.from('hello');
    expect(s.put('k', 'id1', [piece, Buffer.from(' world')])).toBe(true);
    piece.fill(0); // the space holds its own copy
    const got = s.get('k');
    expect(got?.tag).toBe('id1');
    expect(got?.bytes.toString()).toBe('hello world');
    got!.bytes.fill(0); // and gives out copies
    expect(s.get('k')?.bytes.toString()).toBe('hello world');
    expect(s.get('other')).toBeNull();
    s.delete('k');
    expect(s.get('k')).toBeNull();
    expect(s.stats()).toMatchObject({ hits: 2, misses: 2, puts: 1, entries: 0, bytes: 0 });
  });

  it('is one space per name: the first asker sets its bounds', () => {
    const a = new SharedBytes('test name', 1024, 60_000);
    const b = new SharedBytes('test name', 1, 0);
    a.put('k', '', [Buffer.alloc(10)]);
    expect(b.get('k')?.bytes.length).toBe(10);
  });

  it('keeps at most its bytes, each value at most a quarter of them, oldest dropped first', () => {
    const s = new SharedBytes('test bound', 1000, 60_000);
    expect(s.put('huge', '', [Buffer.alloc(251)])).toBe(false);
    for (let i = 0; i < 5; i++) expect(s.put(`k${i}`, '', [Buffer.alloc(250)])).toBe(true);
    expect(s.get('k0')).toBeNull();
    expect(s.get('k4')).not.toBeNull();
    expect(s.stats()).toMatchObject({ entries: 4, bytes: 1000 });
    s.put('k1', 'again', [Buffer.alloc(100)]); // replaced: counted once, and now the newest
    s.put('k5', '', [Buffer.alloc(250)]);
    expect(s.get('k1')?.tag).toBe('again');
    expect(s.get('k2')).toBeNull();
    expect(s.stats()).toMatchObject({ entries: 4, bytes: 850 });
  });

  it('forgets values after its time', async () => {
    const s = new SharedBytes('test time', 1000, 30);
    s.put('k', '', [Buffer.alloc(1)]);
    expect(s.get('k')).not.toBeNull();
    await new Promise((r) => setTimeout(r, 60));
    expect(s.get('k')).toBeNull();
    expect(s.stats().entries).toBe(0);
  });

  it('refuses bad bounds and names', () => {
    expect(() => new SharedBytes('', 1, 1)).toThrow();
    expect(() => new SharedBytes('test bad', -1, 1)).toThrow();
    expect(() => new SharedBytes('test bad', 1, Number.NaN)).toThrow();
  });
});
