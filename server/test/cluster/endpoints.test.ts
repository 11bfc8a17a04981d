// The plan of a distributed deployment's arguments (cluster/endpoints.ts): MinIO's set sizes, sets spread round
// robin over the nodes, this node found by its --address, and the arguments refused with a message saying why.
// Server pools of nodes (planPools): each ellipsis argument a pool of its own sets, on its own nodes or shared ones.
import { describe, expect, it } from 'vitest';
import { chooseSetSize, isEndpointArgument, planCluster, planPools } from '../../src/cluster/endpoints.js';

const local = new Set(['127.0.0.1', 'localhost', '::1', '10.0.0.2']);

describe('chooseSetSize', () => {
  it.each([
    [1, 1, 1],
    [4, 1, 4],
    [8, 4, 8],
    [16, 4, 16],
    [32, 4, 16],
    [12, 3, 12],
    [24, 4, 12],
    [18, 3, 9],
    [64, 8, 16],
    [6, 2, 6],
    [10, 5, 10],
  ])('%i drives on %i nodes: sets of %i', (drives, nodes, size) => {
    expect(chooseSetSize(drives, nodes)).toBe(size);
  });

  it('refuses counts no symmetric set size divides', () => {
    expect(() => chooseSetSize(17, 1)).toThrow('cannot be split symmetrically');
    expect(() => chooseSetSize(34, 17)).toThrow('give each node the same number of drives');
  });
});

describe('planCluster', () => {
  const ellipsis = 'http://127.0.0.1:{9001...9004}/mnt/d{1...2}';

  it("MinIO's ellipsis form: sets of 8, round robin over the nodes, this node by its address", () => {
    const p = planCluster([ellipsis], '127.0.0.1:9003', local);
    expect(p.setSize).toBe(8);
    expect(p.nodes).toEqual([9001, 9002, 9003, 9004].map((n) => `http://127.0.0.1:${n}`));
    expect(p.self).toBe(2);
    expect(p.localFolders).toEqual(['/mnt/d1', '/mnt/d2']);
    expect(p.endpoints.slice(0, 5)).toEqual([
      'http://127.0.0.1:9001/mnt/d1',
      'http://127.0.0.1:9002/mnt/d1',
      'http://127.0.0.1:9003/mnt/d1',
      'http://127.0.0.1:9004/mnt/d1',
      'http://127.0.0.1:9001/mnt/d2',
    ]);
  });

  it('an explicit list gives the same plan (and digest) as the ellipsis, whatever its order', () => {
    const list = [9004, 9003, 9002, 9001].flatMap((n) => [1, 2].map((d) => `http://127.0.0.1:${n}/mnt/d${d}`));
    const a = planCluster([ellipsis], '127.0.0.1:9001', local);
    const b = planCluster(list, '127.0.0.1:9001', local);
    expect(b.setSize).toBe(8);
    expect(new Set(b.endpoints)).toEqual(new Set(a.endpoints));
    // Every set of either holds at most 2 drives of a node (parity 4).
    for (const p of [a, b]) {
      const perNode = new Map<string, number>();
      for (const e of p.endpoints) perNode.set(new URL(e).origin, (perNode.get(new URL(e).origin) ?? 0) + 1);
      expect([...perNode.values()]).toEqual([2, 2, 2, 2]);
    }
    expect(planCluster(list, '127.0.0.1:9002', local).digest).toBe(b.digest);
  });

  it('16 drives on 4 nodes: one set of 16, 4 of each node; 2 nodes of 8: 16 in one set, 8 of each', () => {
    const p = planCluster(['http://10.0.0.{1...4}:9000/d{1...4}'], ':9000', local);
    expect(p.setSize).toBe(16);
    expect(p.self).toBe(1); // 10.0.0.2 is this machine's (given), --address :9000 listens on all
    const two = planCluster(['http://10.0.0.{1...2}:9000/d{1...8}'], '10.0.0.1:9000', local);
    expect(two.setSize).toBe(16);
    expect(two.self).toBe(0);
  });

  it('https:// endpoints: the nodes talk TLS, the same plan otherwise (and another digest)', () => {
    const tls = planCluster([ellipsis.replace('http:', 'https:')], '127.0.0.1:9002', local);
    const plain = planCluster([ellipsis], '127.0.0.1:9002', local);
    expect(tls.secure).toBe(true);
    expect(plain.secure).toBe(false);
    expect(tls.nodes[1]).toBe('https://127.0.0.1:9002');
    expect(tls.self).toBe(1);
    expect(tls.localFolders).toEqual(plain.localFolders);
    expect(tls.digest).not.toBe(plain.digest);
  });

  it.each([
    [['http://127.0.0.1:9001/a{1...2}', 'http://127.0.0.1:9002/a{1...2}'], '127.0.0.1:9001', 'server pools'],
    [
      [
        'https://127.0.0.1:9001/d1',
        'https://127.0.0.1:9001/d2',
        'http://127.0.0.1:9002/d1',
        'http://127.0.0.1:9002/d2',
      ],
      '127.0.0.1:9001',
      'give every endpoint the same scheme',
    ],
    [['http://127.0.0.1:{9001...9002}/'], '127.0.0.1:9001', 'is not an endpoint'],
    [['http://127.0.0.1/d{1...4}'], '127.0.0.1:9001', 'names no port'],
    [['http://127.0.0.1:9001/d1', 'http://127.0.0.1:9001/d1'], '127.0.0.1:9001', 'is given twice'],
    [[ellipsis], '127.0.0.1:9005', 'none of the endpoints is this node (--address 127.0.0.1:9005)'],
    [[ellipsis], '127.0.0.1:0', 'needs a fixed --address port'],
    [[ellipsis], '10.9.9.9:9001', 'none of the endpoints is this node'],
    [
      ['http://127.0.0.1:9001/a', 'http://127.0.0.1:9001/b', 'http://127.0.0.1:9001/c', 'http://127.0.0.1:9002/a'],
      '127.0.0.1:9001',
      'losing that node would lose the set',
    ],
  ])('%j at %s is refused: %s', (args, address, message) => {
    expect(() => planCluster(args, address, local)).toThrow(message);
  });

  it('tells endpoints from folders', () => {
    expect(isEndpointArgument('http://h:1/d')).toBe(true);
    expect(isEndpointArgument('HTTPS://h:1/d')).toBe(true);
    expect(isEndpointArgument('./data/d1')).toBe(false);
    expect(isEndpointArgument('/mnt/http:/x')).toBe(false);
  });
});

describe('planPools', () => {
  const pool1 = 'http://127.0.0.1:{9001...9004}/a{1...4}';
  const pool2 = 'http://127.0.0.1:{9005...9008}/b{1...4}';

  it('one argument, or a list: one pool, as planCluster plans it (the same digest)', () => {
    const one = planPools([pool1], '127.0.0.1:9002', local);
    const c = planCluster([pool1], '127.0.0.1:9002', local);
    expect(one).toEqual({
      pools: [{ endpoints: c.endpoints, setSize: 16, localFolders: ['/a1', '/a2', '/a3', '/a4'] }],
      localFolders: ['/a1', '/a2', '/a3', '/a4'],
      nodes: c.nodes,
      secure: false,
      self: 1,
      digest: c.digest,
    });
    const list = ['http://127.0.0.1:9001/d1', 'http://127.0.0.1:9002/d1'];
    expect(planPools(list, '127.0.0.1:9001', local).pools[0].setSize).toBe(2);
  });

  it('two pools of 4 nodes each: each its own sets over its own nodes; a node has drives in one of them', () => {
    const p = planPools([pool1, pool2], '127.0.0.1:9006', local);
    expect(p.nodes).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `http://127.0.0.1:${9000 + n}`));
    expect(p.self).toBe(5);
    expect(p.pools.map((q) => q.setSize)).toEqual([16, 16]);
    expect(p.pools[0].endpoints.every((e) => /:900[1-4]\/a\d$/.test(e))).toBe(true);
    expect(p.pools[1].endpoints.slice(0, 2)).toEqual(['http://127.0.0.1:9005/b1', 'http://127.0.0.1:9006/b1']);
    expect(p.pools.map((q) => q.localFolders)).toEqual([[], ['/b1', '/b2', '/b3', '/b4']]);
    // Every node computes the same digest; another order of the pools is another deployment.
    expect(planPools([pool1, pool2], '127.0.0.1:9001', local).digest).toBe(p.digest);
    expect(planPools([pool2, pool1], '127.0.0.1:9001', local).digest).not.toBe(p.digest);
    expect(p.digest).not.toBe(planPools([pool1], '127.0.0.1:9001', local).digest);
  });

  it('two pools on the same 4 nodes, other folders: every node has drives in both', () => {
    const same = 'http://127.0.0.1:{9001...9004}/b{1...2}';
    const p = planPools([pool1, same], '127.0.0.1:9003', local);
    expect(p.nodes).toHaveLength(4);
    expect(p.self).toBe(2);
    expect(p.pools.map((q) => q.setSize)).toEqual([16, 8]);
    expect(p.pools.map((q) => q.localFolders)).toEqual([
      ['/a1', '/a2', '/a3', '/a4'],
      ['/b1', '/b2'],
    ]);
    // What the node's storage RPC serves: its folders of every pool.
    expect(p.localFolders).toEqual(['/a1', '/a2', '/a3', '/a4', '/b1', '/b2']);
  });

  it.each([
    [[pool1, 'http://127.0.0.1:9005/b1'], '127.0.0.1:9001', 'give each pool as one ellipsis argument'],
    [[pool1, 'http://127.0.0.1:{9001...9004}/a{4...5}'], '127.0.0.1:9001', 'http://127.0.0.1:9001/a4 is in two pools'],
    [[pool1, pool2.replace('http:', 'https:')], '127.0.0.1:9001', 'give every pool the same scheme'],
    [[pool1, pool2], '127.0.0.1:9009', 'none of the endpoints is this node'],
    [[pool1, 'http://127.0.0.1:9005/b{1...17}'], '127.0.0.1:9001', 'cannot be split symmetrically'],
  ])('%j at %s is refused: %s', (args, address, message) => {
    expect(() => planPools(args, address, local)).toThrow(message);
  });
});
