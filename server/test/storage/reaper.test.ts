// Reaper: removal jobs run after the grace period, and then only once no reader holds any of their data
// dir ids; releasing is idempotent; flush() runs the jobs still in their grace period at once.
import { describe, expect, it } from 'vitest';
import { dataDirId, Reaper } from '../../src/storage/engine/reaper.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A job that counts its runs and lets a test wait for the next one. */
function job() {
  let runs = 0;
  let wake: (() => void) | null = null;
  return {
    fn: async () => {
      runs++;
      wake?.();
    },
    get runs() {
      return runs;
    },
    next: () => new Promise<void>((r) => (wake = r)),
  };
}

describe('Reaper', () => {
  it('runs a job after the grace period, not before', async () => {
    const r = new Reaper(300);
    const j = job();
    const ran = j.next();
    const t = Date.now();
    r.later(j.fn, ['a']);
    await sleep(50); // a timer due earlier fires first even on a busy machine
    expect(j.runs).toBe(0);
    await ran;
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
    expect(j.runs).toBe(1);
  });

  it('with no grace period runs the job at once (unless held)', async () => {
    const r = new Reaper(0);
    const j = job();
    const ran = j.next();
    r.later(j.fn);
    await ran;
    expect(j.runs).toBe(1);
    const release = r.hold('x');
    const k = job();
    r.later(k.fn, ['x']);
    await sleep(30);
    expect(k.runs).toBe(0);
    const ran2 = k.next();
    release();
    await ran2;
    expect(k.runs).toBe(1);
  });

  it('a held id delays the job past the grace period until the reader releases it', async () => {
    const r = new Reaper(20);
    const release = r.hold('dir1');
    const j = job();
    r.later(j.fn, ['dir1']);
    await sleep(150);
    expect(j.runs).toBe(0);
    const ran = j.next();
    release();
    await ran;
    expect(j.runs).toBe(1);
    await sleep(50);
    expect(j.runs).toBe(1); // once
  });

  it('waits for every reader of the id, and for every id of the job', async () => {
    const r = new Reaper(10);
    const a1 = r.hold('a');
    const a2 = r.hold('a');
    const b = r.hold('b');
    const j = job();
    r.later(j.fn, ['a', 'b']);
    await sleep(60);
    a1();
    await sleep(30);
    expect(j.runs).toBe(0); // a2 still reads 'a'
    b();
    await sleep(30);
    expect(j.runs).toBe(0);
    const ran = j.next();
    a2();
    await ran;
    expect(j.runs).toBe(1);
  });

  it('a reader arriving during the grace period is waited for too', async () => {
    const r = new Reaper(40);
    const j = job();
    r.later(j.fn, ['a']);
    const late = r.hold('a'); // e.g. a GET that opened the old version just before the change
    await sleep(150);
    expect(j.runs).toBe(0);
    const ran = j.next();
    late();
    await ran;
    expect(j.runs).toBe(1);
  });

  it('release is idempotent: calling it twice does not release another reader', async () => {
    const r = new Reaper(10);
    const first = r.hold('a');
    const second = r.hold('a');
    const j = job();
    r.later(j.fn, ['a']);
    first();
    first();
    first();
    await sleep(80);
    expect(j.runs).toBe(0); // `second` still holds 'a'
    const ran = j.next();
    second();
    second();
    await ran;
    expect(j.runs).toBe(1);
    // a later hold/release cycle of the same id works as new
    const again = r.hold('a');
    const k = job();
    r.later(k.fn, ['a']);
    await sleep(60);
    expect(k.runs).toBe(0);
    const ran2 = k.next();
    again();
    await ran2;
    expect(k.runs).toBe(1);
  });

  it('holds of other ids do not delay a job; a released id does not delay later jobs', async () => {
    const r = new Reaper(10);
    const other = r.hold(dataDirId(0, 'bkt/k1', 'dd1'));
    const done = r.hold(dataDirId(0, 'bkt/k2', 'dd2'));
    done();
    const j = job();
    const ran = j.next();
    r.later(j.fn, [dataDirId(0, 'bkt/k2', 'dd2'), dataDirId(1, 'bkt/k1', 'dd1')]); // set 1: another id
    await ran;
    expect(j.runs).toBe(1);
    other();
  });

  it('dataDirId tells sets, objects and data dirs apart', () => {
    const ids = new Set([
      dataDirId(0, 'b/k', 'd'),
      dataDirId(1, 'b/k', 'd'),
      dataDirId(0, 'b/k2', 'd'),
      dataDirId(0, 'b/k', 'd2'),
    ]);
    expect(ids.size).toBe(4);
    expect(dataDirId(0, 'b/k', 'd')).toBe(dataDirId(0, 'b/k', 'd'));
  });

  it('flush runs the jobs still in their grace period at once, held or not, each once', async () => {
    const r = new Reaper(60_000);
    const j1 = job();
    const j2 = job();
    const release = r.hold('b');
    r.later(j1.fn, ['a']);
    r.later(j2.fn, ['b']);
    await sleep(20);
    expect(j1.runs + j2.runs).toBe(0);
    await r.flush();
    expect(j1.runs).toBe(1);
    expect(j2.runs).toBe(1); // readers are not waited for on close
    release();
    await sleep(20);
    expect(j1.runs).toBe(1);
    expect(j2.runs).toBe(1);
    await r.flush(); // nothing left
    expect(j1.runs + j2.runs).toBe(2);
  });

  it('a failing job neither stops the others nor rejects (timer path and flush)', async () => {
    const r = new Reaper(10);
    const bad = async () => {
      throw new Error('EIO');
    };
    const j = job();
    const ran = j.next();
    r.later(bad);
    r.later(j.fn);
    await ran;
    expect(j.runs).toBe(1);
    const r2 = new Reaper(60_000);
    const k = job();
    r2.later(bad);
    r2.later(k.fn);
    await expect(r2.flush()).resolves.toBeUndefined();
    expect(k.runs).toBe(1);
  });
});
