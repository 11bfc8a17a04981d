// `cairn server` arguments: --workers N beats CAIRN_WORKERS, which beats the number of cores (and the same for
// --worker-mode, with the thread pool sized for threads); bad counts are refused naming the option or variable; --help needs no drive. And the command itself: a bad
// CAIRN_WORKERS exits 2 before touching a drive, --help prints the usage and exits 0.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_WORKERS, parseServerArgs } from '../../src/cli/server.js';
import { defaultWorkerMode } from '../../src/cluster/spawn.js';
import { sizeThreadPool } from '../../src/cluster/thread-pool.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));

describe('parseServerArgs', () => {
  it('workers: --workers, else CAIRN_WORKERS, else the number of cores', () => {
    expect(parseServerArgs(['d1']).workers).toBe(availableParallelism());
    expect(parseServerArgs(['d1'], { CAIRN_WORKERS: '3' }).workers).toBe(3);
    expect(parseServerArgs(['d1'], { CAIRN_WORKERS: '' }).workers).toBe(availableParallelism());
    expect(parseServerArgs(['--workers', '1', 'd1'], { CAIRN_WORKERS: '3' }).workers).toBe(1);
    expect(parseServerArgs(['--workers=5', 'd1', 'd2']).workers).toBe(5);
    expect(parseServerArgs(['d1', '--workers', String(MAX_WORKERS)]).drives).toEqual(['d1']);
  });

  it('several ellipsis arguments are server pools, served by the workers asked for; a mix is refused', () => {
    expect(parseServerArgs(['p1/d{1...4}', 'p2/d{1...4}']).workers).toBe(availableParallelism());
    expect(parseServerArgs(['p1/d{1...4}', 'p2/d{1...4}'], { CAIRN_WORKERS: '1' }).workers).toBe(1);
    expect(parseServerArgs(['--workers', '2', 'p1/d{1...4}', 'p2/d{1...4}']).workers).toBe(2);
    expect(parseServerArgs(['p1/d{1...4}', 'p2/d{1...4}'], { CAIRN_WORKERS: '3' }).workers).toBe(3);
    expect(() => parseServerArgs(['p1/d{1...4}', 'p2/d{1...4}', 'extra'])).toThrow(/one ellipsis argument/);
    expect(() => parseServerArgs(['p/d{1...4}', 'p/d{3...6}'])).toThrow(/two server pools/);
    // One ellipsis argument with plain folders stays one pool of every drive.
    expect(parseServerArgs(['--workers', '2', 'p/d{1...2}', 'p/d9']).workers).toBe(2);
    // Pools of nodes: one worker per node.
    const nodes = ['--address', '127.0.0.1:9000', 'http://127.0.0.1:9000/a{1...4}', 'http://127.0.0.1:9001/b{1...4}'];
    expect(parseServerArgs(nodes).workers).toBe(1);
  });

  it('worker mode: --worker-mode, else CAIRN_WORKER_MODE, else threads (left undefined: defaultWorkerMode)', () => {
    expect(parseServerArgs(['d1']).workerMode).toBeUndefined();
    expect(parseServerArgs(['d1'], { CAIRN_WORKER_MODE: 'threads' }).workerMode).toBe('threads');
    expect(parseServerArgs(['--worker-mode', 'processes', 'd1'], { CAIRN_WORKER_MODE: 'threads' }).workerMode).toBe(
      'processes',
    );
    expect(parseServerArgs(['--worker-mode=threads', 'd1']).workerMode).toBe('threads');
    // The single executable forks processes only: its default (test/binary checks it there).
    expect(defaultWorkerMode()).toBe('threads');
  });

  it('worker threads share one libuv pool of UV_THREADPOOL_SIZE (4) per worker, set before it starts', () => {
    const pool = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      sizeThreadPool(argv, env);
      return env.UV_THREADPOOL_SIZE;
    };
    expect(pool(['server', '--worker-mode', 'threads', '--workers', '3', 'd1'])).toBe('12');
    expect(pool(['server', '--workers=2', 'd1'], { CAIRN_WORKER_MODE: 'threads', UV_THREADPOOL_SIZE: '6' })).toBe('12');
    expect(pool(['server', 'd1'], { CAIRN_WORKER_MODE: 'threads', CAIRN_WORKERS: '5' })).toBe('20');
    expect(pool(['server', '--worker-mode=threads', '--workers', '1', 'd1'])).toBeUndefined();
    expect(pool(['server', '--workers', '3', 'd1'])).toBe('12'); // threads, the default
    expect(pool(['server', '--worker-mode', 'processes', '--workers', '3', 'd1'])).toBeUndefined();
    expect(pool(['server', 'd1'], { CAIRN_WORKER_MODE: 'processes', CAIRN_WORKERS: '3' })).toBeUndefined();
    expect(pool(['gateway', 'nas', '--worker-mode', 'threads', 'd1'])).toBeUndefined();
  });

  it.each([
    [['--worker-mode', 'fibers', 'd1'], {}, "--worker-mode must be processes or threads, got 'fibers'"],
    [['d1'], { CAIRN_WORKER_MODE: 'thread' }, "CAIRN_WORKER_MODE must be processes or threads, got 'thread'"],
    [['--workers', '0', 'd1'], {}, "--workers must be a whole number >= 1, got '0'"],
    [['--workers', 'two', 'd1'], {}, "--workers must be a whole number >= 1, got 'two'"],
    [['--workers', '-2', 'd1'], {}, "--workers must be a whole number >= 1, got '-2'"],
    [['--workers'], {}, '--workers needs a value'],
    [['d1'], { CAIRN_WORKERS: '0' }, "CAIRN_WORKERS must be a whole number >= 1, got '0'"],
    [['d1'], { CAIRN_WORKERS: '2x' }, "CAIRN_WORKERS must be a whole number >= 1, got '2x'"],
    [['--workers', String(MAX_WORKERS + 1), 'd1'], {}, `at most ${MAX_WORKERS} workers, got ${MAX_WORKERS + 1}`],
    [['http://10.0.0.1:9000/d{1...4}'], {}, 'none of the endpoints is this node (--address :9000)'],
    [['d1', 'HTTPS://node2/d1'], {}, 'give either local drive folders or endpoints of nodes'],
    [['http://127.0.0.1:9000/d{1...4}', '--workers', String(MAX_WORKERS + 1)], {}, `at most ${MAX_WORKERS} workers`],
    [['http://127.0.0.1:{9000...9001}/d{1...4}', '--address', '127.0.0.1:0'], {}, 'needs a fixed --address port'],
    [['--console-address', ':9000', 'd1'], {}, '--console-address :9000 cannot have the port of --address'],
    [['--address=:9100', '--console-address', '127.0.0.1:9100', 'd1'], {}, 'cannot have the port of --address'],
    [['d1'], { CAIRN_CONSOLE_ADDRESS: ':9000' }, '--console-address :9000 cannot have the port of --address'],
    [['--console-address', '9001', 'd1'], {}, "invalid address '9001'"],
    [['--console-address'], {}, '--console-address needs a value'],
  ])('%j %j is refused: %s', (argv, env, message) => {
    expect(() => parseServerArgs(argv, env)).toThrow(message);
  });

  it('a node of a distributed deployment: --workers, else CAIRN_WORKERS, else 1 (not one per core)', () => {
    const node = ['--address', '127.0.0.1:9000', 'http://127.0.0.1:9000/d{1...4}'];
    expect(parseServerArgs(node).workers).toBe(1);
    expect(parseServerArgs([...node, '--workers', '2']).workers).toBe(2);
    expect(parseServerArgs(node, { CAIRN_WORKERS: '3' }).workers).toBe(3);
  });

  it('console address: --console-address, else CAIRN_CONSOLE_ADDRESS, else none', () => {
    expect(parseServerArgs(['d1']).consoleAddress).toBeUndefined();
    expect(parseServerArgs(['d1'], { CAIRN_CONSOLE_ADDRESS: '' }).consoleAddress).toBeUndefined();
    expect(parseServerArgs(['d1'], { CAIRN_CONSOLE_ADDRESS: ':9001' }).consoleAddress).toBe(':9001');
    expect(parseServerArgs(['--console-address=:9002', 'd1'], { CAIRN_CONSOLE_ADDRESS: ':9001' }).consoleAddress).toBe(
      ':9002',
    );
    // Port 0 twice: two ports picked, never the same.
    expect(parseServerArgs(['--address', ':0', '--console-address', ':0', 'd1']).consoleAddress).toBe(':0');
  });

  it('endpoints of nodes: one worker by default, the plan checked', () => {
    const a = parseServerArgs(['--address', '127.0.0.1:9002', 'http://127.0.0.1:{9001...9004}/x/d{1...2}']);
    expect(a.workers).toBe(1);
    expect(a.drives).toEqual(['http://127.0.0.1:{9001...9004}/x/d{1...2}']);
    // Server pools of nodes, each node of several workers (test/cluster/pools-workers.test.ts).
    const pools = ['--address', '127.0.0.1:9000', 'http://127.0.0.1:9000/a{1...4}', 'http://127.0.0.1:9001/b{1...4}'];
    expect(parseServerArgs(pools, { CAIRN_WORKERS: '2' }).workers).toBe(2);
    expect(parseServerArgs([...pools, '--workers', '3']).workers).toBe(3);
  });

  it('--help needs no drive', () => {
    expect(parseServerArgs(['--help']).help).toBe(true);
    expect(parseServerArgs(['-h', '--workers', '2']).help).toBe(true);
  });
});

const cairn = (argv: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'server/src/cli/main.ts', 'server', ...argv], {
    cwd: repo,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('cairn server', () => {
  it('--help prints the usage (flags and environment) and exits 0', () => {
    const r = cairn(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: cairn server');
    expect(r.stdout).toContain('--workers');
    expect(r.stdout).toContain('CAIRN_WORKERS');
  });

  it('a bad CAIRN_WORKERS exits 2 naming it, before any drive is made', () => {
    const r = cairn(['--address', '127.0.0.1:0', '/nonexistent/cairn-args-test/d1'], { CAIRN_WORKERS: 'many' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("cairn server: CAIRN_WORKERS must be a whole number >= 1, got 'many'");
    expect(r.stderr).toContain('Usage: cairn server');
  });

  it('a bad notification target setting exits 2 naming its variable, before any drive is made', () => {
    const r = cairn(['--address', '127.0.0.1:0', '/nonexistent/cairn-args-test/d1'], {
      CAIRN_NOTIFY_MQTT_ENABLE_1: 'on',
      CAIRN_NOTIFY_MQTT_BROKER_1: 'tcp://127.0.0.1:1883',
      CAIRN_NOTIFY_MQTT_TOPIC_1: 'events',
      CAIRN_NOTIFY_MQTT_QOS_1: '5',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("cairn server: CAIRN_NOTIFY_MQTT_QOS_1 must be 0, 1 or 2, got '5'");
  });
});
