// The primary's watchdog (cluster/watchdog.ts) counts pings sent, not wall time: a worker is killed once it
// has left HUNG_PINGS pings in a row unanswered, more under load (up to LOAD_FACTOR_MAX times), and any answer
// starts its count again. test/workers/hung.test.ts proves a stuck worker is killed on a real server.
import { describe, expect, it } from 'vitest';
import { HUNG_PINGS, hungPings, LOAD_FACTOR_MAX, Watchdog } from '../../src/cluster/watchdog.js';

const IDLE = { load1: 0.3, cores: 2 };

/** Rounds until `worker` is reported hung (the pings it was sent first), at most `max`. */
function roundsToHung(dog: Watchdog<string>, worker: string, load = IDLE, max = 100): number {
  for (let round = 1; round <= max; round++) {
    const { hung } = dog.tick(load);
    if (hung.some((h) => h.worker === worker)) return round;
  }
  return -1;
}

describe('watchdog', () => {
  it('reports a worker hung after HUNG_PINGS pings in a row unanswered, once, and pings it until then', () => {
    const dog = new Watchdog<string>();
    dog.watch('a');
    for (let i = 0; i < HUNG_PINGS; i++) expect(dog.tick(IDLE)).toEqual({ hung: [], ping: ['a'] });
    expect(dog.tick(IDLE)).toEqual({ hung: [{ worker: 'a', missed: HUNG_PINGS }], ping: [] });
    // No longer watched: not reported again, not pinged.
    expect(dog.tick(IDLE)).toEqual({ hung: [], ping: [] });
  });

  it('an answer (any message) starts the count again; a slow worker that answers is never killed', () => {
    const dog = new Watchdog<string>();
    dog.watch('slow');
    dog.watch('stuck');
    for (let round = 0; round < 50; round++) {
      const { hung } = dog.tick(IDLE);
      expect(hung.map((h) => h.worker)).not.toContain('slow');
      if (round % HUNG_PINGS === HUNG_PINGS - 1) expect(dog.answered('slow')).toBe(HUNG_PINGS);
      if (hung.length > 0) expect(hung).toEqual([{ worker: 'stuck', missed: HUNG_PINGS }]);
    }
    expect(dog.answered('stuck')).toBe(0); // gone from the watch
  });

  it('gives a loaded machine more pings, at most LOAD_FACTOR_MAX times as many', () => {
    expect(hungPings(IDLE)).toBe(HUNG_PINGS);
    expect(hungPings({ load1: 2, cores: 2 })).toBe(HUNG_PINGS);
    expect(hungPings({ load1: 3, cores: 2 })).toBe(Math.ceil(HUNG_PINGS * 1.5));
    expect(hungPings({ load1: 40, cores: 2 })).toBe(HUNG_PINGS * LOAD_FACTOR_MAX);
    expect(hungPings({ load1: 40, cores: 0 })).toBe(HUNG_PINGS * LOAD_FACTOR_MAX);
    // A stuck worker is still killed under any load, after the larger count.
    const dog = new Watchdog<string>();
    dog.watch('a');
    expect(roundsToHung(dog, 'a', { load1: 100, cores: 2 })).toBe(HUNG_PINGS * LOAD_FACTOR_MAX + 1);
  });

  it('counts rounds, not time: rounds the primary could not run blame nobody', () => {
    const dog = new Watchdog<string>();
    dog.watch('a');
    dog.tick(IDLE);
    // However long before the next round (the primary starved), one round is one more ping.
    expect(dog.tick(IDLE).hung).toEqual([]);
    expect(dog.answered('a')).toBe(2);
  });

  it('forgets a worker told to stop, and watches it afresh when it serves again', () => {
    const dog = new Watchdog<string>();
    dog.watch('a');
    for (let i = 0; i < HUNG_PINGS; i++) dog.tick(IDLE);
    dog.forget('a');
    expect(dog.tick(IDLE)).toEqual({ hung: [], ping: [] });
    dog.watch('a');
    expect(roundsToHung(dog, 'a')).toBe(HUNG_PINGS + 1);
  });
});
