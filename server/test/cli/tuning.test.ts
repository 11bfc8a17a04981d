// Storage tuning from the environment (CAIRN_READ_BATCH_BLOCKS, CAIRN_READ_AHEAD_BATCHES,
// CAIRN_BUFFER_POOL_MB, CAIRN_READ_CACHE_MB): unset keeps the defaults, good values pass through, a bad value
// names its variable;
// and `cairn server` started with a bad value exits 2 with that message, touching no drive.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDuration, tuningFromEnv } from '../../src/cli/server.js';
import { replicationWorkersFromEnv } from '../../src/api/replication/replicator.js';
import { LOCK_EXPIRY_MS, lockExpiryFromEnv } from '../../src/cluster/lock-table.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));

describe('stale multipart uploads and the test clock', () => {
  it('reads Go-style durations and refuses anything else', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('45s')).toBe(45_000);
    for (const bad of ['', '24', '1d', '-5s', '1.5h', 'h']) expect(parseDuration(bad), bad).toBeUndefined();
    expect(tuningFromEnv({ CAIRN_API_STALE_UPLOADS_EXPIRY: '90m' }).staleUploadsExpiryMs).toBe(5_400_000);
    expect(() => tuningFromEnv({ CAIRN_API_STALE_UPLOADS_EXPIRY: '1 day' })).toThrow(/CAIRN_API_STALE_UPLOADS_EXPIRY/);
    expect(() => tuningFromEnv({ CAIRN_LIFECYCLE_DAY_SECONDS: '0' })).toThrow(/CAIRN_LIFECYCLE_DAY_SECONDS/);
  });

  it('a day of N seconds shrinks the defaults and the given durations in the same ratio', () => {
    const t = tuningFromEnv({ CAIRN_LIFECYCLE_DAY_SECONDS: '10' });
    expect(t.staleUploadsExpiryMs).toBe(10_000); // 24 h = one day
    expect(t.staleUploadsCleanupIntervalMs).toBe(2_500); // 6 h = a quarter day
    const given = tuningFromEnv({ CAIRN_LIFECYCLE_DAY_SECONDS: '10', CAIRN_API_STALE_UPLOADS_EXPIRY: '48h' });
    expect(given.staleUploadsExpiryMs).toBe(20_000);
    // The lifecycle rules' day itself (the API layer's test clock), and the rules applied every quarter day.
    expect(t.lifecycleDaySeconds).toBe(10);
    expect(tuningFromEnv({}).lifecycleDaySeconds).toBeUndefined();
    expect(() => tuningFromEnv({ CAIRN_LIFECYCLE_DAY_SECONDS: '1.5' })).toThrow(/CAIRN_LIFECYCLE_DAY_SECONDS/);
  });
});

describe('the scanner speed', () => {
  it("takes MinIO's speed names, and refuses any other", () => {
    expect(tuningFromEnv({ CAIRN_SCANNER_SPEED: 'fastest' })).toMatchObject({
      scannerIntervalMs: 1000,
      scannerObjectsPerSecond: 1_000_000,
    });
    expect(tuningFromEnv({ CAIRN_SCANNER_SPEED: 'slowest' })).toMatchObject({
      scannerIntervalMs: 1_800_000,
      scannerObjectsPerSecond: 1,
    });
    expect(tuningFromEnv({ CAIRN_SCANNER_SPEED: 'default' })).toMatchObject({ scannerIntervalMs: 60_000 });
    expect(tuningFromEnv({ CAIRN_SCANNER_SPEED: '' }).scannerIntervalMs).toBeUndefined();
    for (const bad of ['Fastest', 'turbo', 'toString', '1s'])
      expect(() => tuningFromEnv({ CAIRN_SCANNER_SPEED: bad }), bad).toThrow(/CAIRN_SCANNER_SPEED must be fastest/);
  });
});

describe('tuningFromEnv', () => {
  it('unset or empty variables keep the defaults (undefined)', () => {
    const unset = {
      readBatchBlocks: undefined,
      readAheadBatches: undefined,
      poolBytes: undefined,
      readCacheBytes: undefined,
    };
    expect(tuningFromEnv({})).toEqual(unset);
    expect(
      tuningFromEnv({
        CAIRN_READ_BATCH_BLOCKS: '',
        CAIRN_READ_AHEAD_BATCHES: '',
        CAIRN_BUFFER_POOL_MB: '',
        CAIRN_READ_CACHE_MB: '',
      }),
    ).toEqual(unset);
  });

  it('passes good values through; the pool and the read cache are given in MiB', () => {
    const env = {
      CAIRN_READ_BATCH_BLOCKS: '8',
      CAIRN_READ_AHEAD_BATCHES: '2',
      CAIRN_BUFFER_POOL_MB: '128',
      CAIRN_READ_CACHE_MB: '16',
    };
    expect(tuningFromEnv(env)).toEqual({
      readBatchBlocks: 8,
      readAheadBatches: 2,
      poolBytes: 128 * 1024 * 1024,
      readCacheBytes: 16 * 1024 * 1024,
    });
    // the smallest allowed: one block per read, no read-ahead, no pool, no read cache
    const least = {
      CAIRN_READ_BATCH_BLOCKS: '1',
      CAIRN_READ_AHEAD_BATCHES: '0',
      CAIRN_BUFFER_POOL_MB: '0',
      CAIRN_READ_CACHE_MB: '0',
    };
    expect(tuningFromEnv(least)).toEqual({ readBatchBlocks: 1, readAheadBatches: 0, poolBytes: 0, readCacheBytes: 0 });
    // one variable set, the others left alone
    expect(tuningFromEnv({ CAIRN_READ_AHEAD_BATCHES: '3' })).toEqual({
      readBatchBlocks: undefined,
      readAheadBatches: 3,
      poolBytes: undefined,
      readCacheBytes: undefined,
    });
  });

  it.each([
    ['CAIRN_READ_BATCH_BLOCKS', '0'],
    ['CAIRN_READ_BATCH_BLOCKS', '-1'],
    ['CAIRN_READ_BATCH_BLOCKS', '2.5'],
    ['CAIRN_READ_BATCH_BLOCKS', 'four'],
    ['CAIRN_READ_AHEAD_BATCHES', '-1'],
    ['CAIRN_READ_AHEAD_BATCHES', '1.5'],
    ['CAIRN_READ_AHEAD_BATCHES', 'Infinity'],
    ['CAIRN_BUFFER_POOL_MB', '-5'],
    ['CAIRN_BUFFER_POOL_MB', '64MB'],
    ['CAIRN_BUFFER_POOL_MB', 'NaN'],
    ['CAIRN_READ_CACHE_MB', '-1'],
    ['CAIRN_READ_CACHE_MB', '32MiB'],
    ['CAIRN_READ_BATCH_BLOCKS', '0x10'],
    ['CAIRN_READ_BATCH_BLOCKS', '1e1'],
    ['CAIRN_READ_AHEAD_BATCHES', ' 8 '],
    ['CAIRN_METADATA_CACHE_MS', '-1'],
    ['CAIRN_METADATA_CACHE_MS', '1s'],
  ])('%s=%s is refused with the variable named', (name, value) => {
    expect(() => tuningFromEnv({ [name]: value })).toThrow(
      new RegExp(`${name} must be a whole number >= \\d, got '${value}'`),
    );
  });

  it('CAIRN_METADATA_CACHE_MS: milliseconds, 0 (off) allowed, unset leaves the default (off)', () => {
    expect(tuningFromEnv({ CAIRN_METADATA_CACHE_MS: '1500' }).metadataCacheMs).toBe(1500);
    expect(tuningFromEnv({ CAIRN_METADATA_CACHE_MS: '0' }).metadataCacheMs).toBe(0);
    expect(tuningFromEnv({}).metadataCacheMs).toBeUndefined();
  });

  it('a bad value is refused even when the other variables are good', () => {
    expect(() =>
      tuningFromEnv({ CAIRN_READ_BATCH_BLOCKS: '4', CAIRN_READ_AHEAD_BATCHES: '1', CAIRN_BUFFER_POOL_MB: 'x' }),
    ).toThrow(/CAIRN_BUFFER_POOL_MB/);
  });
});

describe('replication senders per target (CAIRN_API_REPLICATION_MAX_WORKERS)', () => {
  it('unset keeps the default; 1 to 500 pass; anything else is refused with the variable named', () => {
    expect(replicationWorkersFromEnv({})).toBeUndefined();
    expect(replicationWorkersFromEnv({ CAIRN_API_REPLICATION_MAX_WORKERS: '' })).toBeUndefined();
    expect(replicationWorkersFromEnv({ CAIRN_API_REPLICATION_MAX_WORKERS: '1' })).toBe(1);
    expect(replicationWorkersFromEnv({ CAIRN_API_REPLICATION_MAX_WORKERS: '500' })).toBe(500);
    for (const bad of ['0', '501', '-1', '8.5', '0x10', ' 8', 'auto'])
      expect(() => replicationWorkersFromEnv({ CAIRN_API_REPLICATION_MAX_WORKERS: bad }), bad).toThrow(
        `CAIRN_API_REPLICATION_MAX_WORKERS must be a whole number from 1 to 500, got '${bad}'`,
      );
  });
});

describe("how long a dead holder's dsync grants last (CAIRN_DSYNC_LOCK_EXPIRY)", () => {
  it('unset keeps 30 s; a duration of at least 10 s passes; anything else is refused with the variable named', () => {
    expect(lockExpiryFromEnv({})).toBe(LOCK_EXPIRY_MS);
    expect(LOCK_EXPIRY_MS).toBe(30_000);
    expect(lockExpiryFromEnv({ CAIRN_DSYNC_LOCK_EXPIRY: '' })).toBe(30_000);
    expect(lockExpiryFromEnv({ CAIRN_DSYNC_LOCK_EXPIRY: '10s' })).toBe(10_000);
    expect(lockExpiryFromEnv({ CAIRN_DSYNC_LOCK_EXPIRY: '2m' })).toBe(120_000);
    for (const bad of ['9s', '0s', '30', '1.5m', '-10s', 'long'])
      expect(() => lockExpiryFromEnv({ CAIRN_DSYNC_LOCK_EXPIRY: bad }), bad).toThrow(
        `CAIRN_DSYNC_LOCK_EXPIRY must be a duration of at least 10s (such as 30s or 1m), got '${bad}'`,
      );
  });
});

/** `cairn server DRIVE` (from the sources) with extra environment; resolves with exit code and output. */
function runServer(env: Record<string, string>, drive: string, onStdout?: (text: string, kill: () => void) => void) {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'server/src/cli/main.ts', 'server', '--address', '127.0.0.1:0', drive],
    {
      cwd: repo,
      env: { ...process.env, CAIRN_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
    onStdout?.(stdout, () => child.kill('SIGTERM'));
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('cairn server with tuning variables', () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'cairn-tune-'));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it.each([
    ['CAIRN_READ_BATCH_BLOCKS', '0'],
    ['CAIRN_READ_AHEAD_BATCHES', '-1'],
    ['CAIRN_BUFFER_POOL_MB', 'lots'],
    ['CAIRN_API_REPLICATION_MAX_WORKERS', '0'],
  ])('%s=%s: exits 2 with a message naming it, no drive created', async (name, value) => {
    const drive = join(base, `bad-${name}`);
    const r = await runServer({ [name]: value }, drive);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cairn server: ${name} must be a whole number`);
    expect(r.stderr).toContain(`got '${value}'`);
    expect(r.stderr).toContain('Usage: cairn server');
    expect(r.stdout).not.toContain('serving S3');
    expect(existsSync(drive)).toBe(false);
  });

  it('CAIRN_DSYNC_LOCK_EXPIRY=5s: exits 2 naming it, no drive created', async () => {
    const drive = join(base, 'bad-expiry');
    const r = await runServer({ CAIRN_DSYNC_LOCK_EXPIRY: '5s' }, drive);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cairn server: CAIRN_DSYNC_LOCK_EXPIRY must be a duration of at least 10s');
    expect(existsSync(drive)).toBe(false);
  });

  it('CAIRN_SELECT_DIALECT=oracle: exits 2 naming the dialects, no drive created', async () => {
    const drive = join(base, 'bad-dialect');
    const r = await runServer({ CAIRN_SELECT_DIALECT: 'oracle' }, drive);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cairn server: CAIRN_SELECT_DIALECT is aws, cairn, ceph, got 'oracle'");
    expect(existsSync(drive)).toBe(false);
  });

  it('good values: the server starts (and stops on SIGTERM with 0)', async () => {
    const drive = join(base, 'good');
    let url = '';
    let health = Promise.resolve(0);
    const r = await runServer(
      { CAIRN_READ_BATCH_BLOCKS: '2', CAIRN_READ_AHEAD_BATCHES: '0', CAIRN_BUFFER_POOL_MB: '0' },
      drive,
      (out, kill) => {
        const m = /serving S3 at (http:\/\/[\d.:]+)/.exec(out);
        if (m && !url) {
          url = m[1];
          health = fetch(`${url}/health/live`)
            .then((res) => res.status)
            .finally(kill);
        }
      },
    );
    expect(url).not.toBe('');
    expect(await health).toBe(200);
    expect(r.code).toBe(0);
    expect(existsSync(drive)).toBe(true);
  });
});
