// `cairn gateway nas` command line: one PATH, the server's options, one worker (with the reason when more
// are asked for).
import { describe, expect, it } from 'vitest';
import { parseNasArgs } from '../../src/cli/gateway.js';

describe('cairn gateway nas arguments', () => {
  it('takes the server options and one folder', () => {
    const a = parseNasArgs(['--address', '127.0.0.1:0', '--region', 'eu-west-1', '/srv/share']);
    expect(a.drives).toEqual(['/srv/share']);
    expect(a.address).toBe('127.0.0.1:0');
    expect(a.region).toBe('eu-west-1');
    expect(a.workers).toBe(1);
    expect(parseNasArgs(['--workers', '1', '/srv/share']).workers).toBe(1);
  });

  it('refuses no folder, two folders, and more than one worker (saying why)', () => {
    expect(() => parseNasArgs([])).toThrow(/one PATH/);
    expect(() => parseNasArgs(['/a', '/b'])).toThrow(/one PATH/);
    expect(() => parseNasArgs(['--workers', '4', '/a'])).toThrow(/one process.*--workers 1, got 4.*in memory/);
    expect(() => parseNasArgs(['/a'], { CAIRN_WORKERS: '2' })).toThrow(/--workers 1, got 2/);
    expect(() => parseNasArgs(['--bogus', '/a'])).toThrow(/unknown option --bogus/);
  });
});
