// A new distributed deployment whose last node starts after the others: the node that formats waits for every
// drive to answer (drive/format.ts formatClusterDrives, main.ts FORMAT_WAIT_ALL_MS) and formats the late node's
// drive with the rest. It used to format as soon as a quorum answered: the late node then started on a drive
// without a format, said of its own new drive "has no format: the leader rebuilds it", and the leader formatted and
// rebuilt it. Four nodes of one drive (one set, EC 2+2: 3 drives are a quorum).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMAT_FILE } from '../../server/src/storage/drive/format.js';
import { LoopbackCluster, WAITING_FOR_FORMAT } from '../helpers/nodes.js';

let cluster: LoopbackCluster;

beforeAll(async () => {
  cluster = await LoopbackCluster.start(
    4,
    1,
    {},
    {
      // Node 4 starts once node 1, the formatter, reaches the other three drives (a quorum) and still waits (or,
      // as it did, formatted those and serves).
      late: {
        node: 3,
        when: (c) =>
          c.nodes[0].messages.some(
            (m) => m.startsWith(`${WAITING_FOR_FORMAT}: 3 of 4 drives answer`) || m.startsWith('Cairn is serving S3'),
          ),
      },
    },
  );
}, 300_000);

afterAll(async () => {
  await cluster?.remove();
});

describe('a new deployment with a node that starts late', () => {
  it('is formatted on every drive by the formatter; no drive is left to the leader to rebuild', async () => {
    const formats = await Promise.all(
      [0, 1, 2, 3].map(async (i) => JSON.parse(await readFile(join(cluster.folder(i, 0), FORMAT_FILE), 'utf8'))),
    );
    expect(new Set(formats.map((f) => f.deploymentId)).size).toBe(1);
    expect(formats.map((f) => f.driveId)).toEqual(formats[0].sets[0]);
    const said = cluster.nodes.flatMap((n) =>
      n.messages.filter((m) => m.includes('has no format') || m.includes('is new or was replaced')),
    );
    expect(said).toEqual([]);
  });
});
