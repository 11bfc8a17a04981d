// Throughput of each native kernel on one core, next to the Node built-in or pure-JS alternative.
// Run: npm run kernels -w bench   (after `npm run build`: it imports @cairn/native's compiled dist/).
//
// GB/s = bytes processed / CPU time of this process (process.cpuUsage), so a busy shared machine
// slows the wall clock but not the figure much. Every call is the sync form on the main thread, with
// outputs written into reused buffers (fresh memory would measure page faults, not kernels).
// "RS encode" is encodeShards (data shards stay in the block, parity computed); "packed copy" is
// encodeBlock, which also copies the data shards into one output buffer. A second table measures the
// async forms (libuv pool, one call awaited at a time): the same kernels plus the cost of the hop.
// "MD5, N uploads in one call" hashes the input cut in N pieces, one per upload state, 2-3 as interleaved
// scalar streams, more in SIMD lanes (the server gathers concurrent uploads' blocks so); "SigV4 chunk
// signatures" verifies the input as a signed aws-chunked body of 64 KiB chunks (SHA-256 of each, two at a
// time, and an HMAC each).
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import {
  checksum,
  crc32,
  crc32c,
  crc64nvme,
  checksumAsync,
  decodeBlock,
  decodeBlockAsync,
  encodeBlock,
  encodeShards,
  encodeShardsAsync,
  highwayHash,
  highwayHashAsync,
  readBlockAsync,
  shardSize,
  splitShards,
  UploadHasher,
  md5State,
  md5Update,
  verifyChunkSignatures,
  aeadOpen,
  aeadSeal,
  aeadSealedLength,
  type Cipher,
} from '@cairn/native';

const SIZES = [4 << 10, 1 << 20, 64 << 20];
const SIZE_NAMES = ['4 KiB', '1 MiB', '64 MiB'];
const BUDGET_US = 200_000; // CPU time per measurement
const KEY = randomBytes(32);
const DATA = randomBytes(64 << 20);
const OUT = Buffer.allocUnsafe(100 << 20);
const BLOCK_OUT = Buffer.allocUnsafe(64 << 20);

type Kernel = (input: Buffer) => unknown;
type AsyncKernel = (input: Buffer) => Promise<unknown>;

/** GB/s of `fn` over `input`, by CPU time. */
function rate(fn: Kernel, input: Buffer): number {
  fn(input); // warm-up: first-call setup (tables, coder state) is not throughput
  const batch = Math.max(1, Math.floor((1 << 20) / Math.max(input.length, 1)) * 16);
  let calls = 0;
  const start = process.cpuUsage();
  let us = 0;
  do {
    for (let i = 0; i < batch; i++) fn(input);
    calls += batch;
    const used = process.cpuUsage(start);
    us = used.user + used.system;
  } while (us < BUDGET_US || calls < 2);
  return (input.length * calls) / us / 1000;
}

/** GB/s of an async form, one call awaited at a time, by CPU time of the whole process (pool included). */
async function rateAsync(fn: AsyncKernel, input: Buffer): Promise<number> {
  await fn(input);
  const batch = Math.max(1, Math.floor((1 << 20) / Math.max(input.length, 1)) * 4);
  let calls = 0;
  const start = process.cpuUsage();
  let us = 0;
  do {
    for (let i = 0; i < batch; i++) await fn(input);
    calls += batch;
    const used = process.cpuUsage(start);
    us = used.user + used.system;
  } while (us < BUDGET_US || calls < 2);
  return (input.length * calls) / us / 1000;
}

// Pure-JS CRC32C, one table lookup per byte: what you would write without the kernel.
const CRC32C_TABLE = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  return c;
});
function jsCrc32c(data: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const zlibCrc32 = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
const nodeHash =
  (algorithm: string): Kernel =>
  (b) =>
    createHash(algorithm).update(b).digest();

/** The shards of `block` with `lost` ones missing: prepared once per input size. */
function lossy(data: number, parity: number, lost: number[], framed = false): (block: Buffer) => (Buffer | null)[] {
  const prepared = new Map<number, (Buffer | null)[]>();
  return (block) => {
    let shards = prepared.get(block.length);
    if (!shards) {
      shards = framed
        ? new UploadHasher().encodeBlock(block, data, parity, KEY).map((f) => Buffer.from(f))
        : splitShards(Buffer.from(encodeBlock(block, data, parity)), data + parity, shardSize(block.length, data));
      for (const i of lost) shards[i] = null;
      prepared.set(block.length, shards);
    }
    return shards;
  };
}

/** Decode with `lost` data shards missing. */
function reconstruct(data: number, parity: number, lost: number[]): Kernel {
  const shardsOf = lossy(data, parity, lost);
  return (block) => decodeBlock(shardsOf(block), data, parity, block.length, BLOCK_OUT);
}

const AEAD_ID = Buffer.from('bucket/key#1');
const SEALED = new Map<string, Buffer>();
/** The sealed packages of `plain` (prepared once per cipher and size, for the open rows). */
function sealedOf(cipher: Cipher, plain: Buffer): Buffer {
  const k = `${cipher}/${plain.length}`;
  let s = SEALED.get(k);
  if (!s) {
    s = Buffer.alloc(aeadSealedLength(plain.length));
    aeadSeal(cipher, KEY, AEAD_ID, 0, plain, true, s);
    SEALED.set(k, s);
  }
  return s;
}
/** node:crypto's one-shot AEAD over the same bytes (one nonce for the whole input: no packages). */
const nodeAead =
  (name: 'aes-256-gcm' | 'chacha20-poly1305'): Kernel =>
  (b) => {
    const iv = Buffer.alloc(12);
    const c =
      name === 'aes-256-gcm'
        ? createCipheriv(name, KEY, iv, { authTagLength: 16 })
        : createCipheriv(name, KEY, iv, { authTagLength: 16 });
    c.update(b);
    c.final();
    return c.getAuthTag();
  };

interface Row {
  name: string;
  kernel: Kernel;
  alt?: [string, Kernel];
  target?: string;
}

/** MD5 of `lanes` uploads in one call: the input cut in `lanes` equal pieces, one per upload. */
function md5Lanes(lanes: number): Kernel {
  const states = Array.from({ length: lanes }, () => md5State());
  const counts = states.map(() => 1);
  return (b) => {
    const n = Math.floor(b.length / lanes);
    md5Update(
      states,
      states.map((_, i) => b.subarray(i * n, (i + 1) * n)),
      counts,
    );
  };
}

/** Verifies the input as an aws-chunked body of 64 KiB chunks, their signatures made once per size. */
function chunkSignatures(): Kernel {
  const key = {
    signingKey: KEY,
    prefix: 'AWS4-HMAC-SHA256-PAYLOAD\n20260101T000000Z\n20260101/us-east-1/s3/aws4_request\n',
  };
  const empty = createHash('sha256').digest('hex');
  const signed = new Map<number, { pieces: Buffer[]; counts: number[]; signatures: string; previous: string }>();
  return (b) => {
    let run = signed.get(b.length);
    if (!run) {
      const pieces: Buffer[] = [];
      let previous = empty;
      let signatures = '';
      for (let at = 0; at < b.length; at += 65536) {
        const chunk = b.subarray(at, at + 65536);
        const sts = `${key.prefix}${previous}\n${empty}\n${createHash('sha256').update(chunk).digest('hex')}`;
        previous = createHmac('sha256', KEY).update(sts).digest('hex');
        signatures += previous;
        pieces.push(chunk);
      }
      run = { pieces, counts: pieces.map(() => 1), signatures, previous: empty };
      signed.set(b.length, run);
    }
    if (verifyChunkSignatures(run, key) !== -1) throw new Error('chunk signatures did not verify');
  };
}

const upload = new UploadHasher('CRC32C');
const ROWS: Row[] = [
  ...(
    [
      [4, 2],
      [8, 4],
      [12, 4],
      [16, 4],
    ] as const
  ).map(
    ([d, p]): Row => ({
      name: `RS encode ${d}+${p}`,
      kernel: (b) => encodeShards(b, d, p, OUT),
      target: '>= 8',
    }),
  ),
  { name: 'RS encode 12+4, packed copy', kernel: (b) => encodeBlock(b, 12, 4, OUT) },
  { name: 'RS reconstruct 12+4 (4 lost)', kernel: reconstruct(12, 4, [0, 3, 6, 9]) },
  {
    name: 'HighwayHash-256',
    kernel: (b) => highwayHash(b, KEY, 256),
    alt: ['node:crypto sha256', nodeHash('sha256')],
    target: '>= 8',
  },
  { name: 'CRC32', kernel: (b) => crc32(b), alt: zlibCrc32 ? ['node:zlib crc32', (b) => zlibCrc32(b)] : undefined },
  { name: 'CRC32C', kernel: (b) => crc32c(b), alt: ['JS table loop', jsCrc32c], target: '>= 20' },
  { name: 'CRC64NVME', kernel: (b) => crc64nvme(b), target: '>= 20' },
  { name: 'MD5', kernel: (b) => checksum('MD5', b), alt: ['node:crypto md5', nodeHash('md5')] },
  { name: 'MD5, 2 uploads in one call', kernel: md5Lanes(2) },
  { name: 'MD5, 3 uploads in one call', kernel: md5Lanes(3) },
  { name: 'MD5, 4 uploads in one call', kernel: md5Lanes(4) },
  { name: 'MD5, 8 uploads in one call (lanes)', kernel: md5Lanes(8), target: '>= 2' },
  {
    name: 'SigV4 chunk signatures, 64 KiB chunks',
    kernel: chunkSignatures(),
    alt: ['node:crypto sha256', nodeHash('sha256')],
  },
  { name: 'SHA-256', kernel: (b) => checksum('SHA256', b), alt: ['node:crypto sha256', nodeHash('sha256')] },
  {
    name: 'fused upload 12+4 (MD5+CRC32C+RS+HH)',
    kernel: (b) => upload.encodeBlock(b, 12, 4, KEY, OUT),
    alt: ['node:crypto md5 alone', nodeHash('md5')],
  },
  ...(['AES-256-GCM', 'CHACHA20-POLY1305'] as const).flatMap((cipher): Row[] => {
    const alt: [string, Kernel] =
      cipher === 'AES-256-GCM'
        ? ['node:crypto aes-256-gcm', nodeAead('aes-256-gcm')]
        : ['node:crypto chacha20-poly1305', nodeAead('chacha20-poly1305')];
    return [
      {
        name: `${cipher} seal (64 KiB packages)`,
        kernel: (b) => aeadSeal(cipher, KEY, AEAD_ID, 0, b, true, OUT),
        alt,
        target: cipher === 'AES-256-GCM' ? '>= 3' : undefined,
      },
      {
        name: `${cipher} open`,
        kernel: (b) => aeadOpen(cipher, KEY, AEAD_ID, 0, sealedOf(cipher, b), true, OUT),
        target: cipher === 'AES-256-GCM' ? '>= 3' : undefined,
      },
    ];
  }),
];

const uploadAsync = new UploadHasher('CRC32C');
const lost4 = lossy(12, 4, [0, 3, 6, 9]);
const framedLost4 = lossy(12, 4, [0, 3, 6, 9], true);
const ASYNC_ROWS: [string, AsyncKernel][] = [
  ['encodeShardsAsync 12+4', (b) => encodeShardsAsync(b, 12, 4, OUT)],
  ['decodeBlockAsync 12+4 (4 lost)', (b) => decodeBlockAsync(lost4(b), 12, 4, b.length, BLOCK_OUT)],
  ['readBlockAsync 12+4 (4 lost)', (b) => readBlockAsync(framedLost4(b), 12, 4, b.length, KEY, BLOCK_OUT)],
  ['highwayHashAsync 256', (b) => highwayHashAsync(b, KEY, 256)],
  ['checksumAsync SHA256', (b) => checksumAsync('SHA256', b)],
  ['fused upload 12+4 async', (b) => uploadAsync.encodeBlockAsync(b, 12, 4, KEY, OUT)],
];

const fmt = (x: number | undefined) => (x === undefined ? '-' : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const header = ['kernel (GB/s, one core)', ...SIZE_NAMES, 'target', 'alternative', ...SIZE_NAMES];
const lines: string[][] = [];
const results = new Map<string, number[]>();
for (const row of ROWS) {
  const native = SIZES.map((n) => rate(row.kernel, DATA.subarray(0, n)));
  const alt = row.alt ? SIZES.map((n) => rate(row.alt![1], DATA.subarray(0, n))) : [];
  results.set(row.name, native);
  const met = row.target ? `${row.target} ${native[1] >= Number(row.target.slice(3)) ? 'met' : 'MISSED'}` : '';
  lines.push([row.name, ...native.map(fmt), met, row.alt?.[0] ?? '-', ...(row.alt ? alt.map(fmt) : ['', '', ''])]);
  if (row.alt?.[0] === 'node:crypto md5 alone') results.set('node md5', alt);
}

const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const print = (cells: string[]) =>
  console.log(cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
print(header);
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
lines.forEach(print);

const ASYNC_SIZES = SIZES.slice(0, 2);
const asyncLines: string[][] = [];
for (const [name, kernel] of ASYNC_ROWS) {
  const r: number[] = [];
  for (const n of ASYNC_SIZES) r.push(await rateAsync(kernel, DATA.subarray(0, n)));
  asyncLines.push([name, ...r.map(fmt)]);
}
const asyncHeader = ['async form (GB/s, awaited one by one)', ...SIZE_NAMES.slice(0, 2)];
const asyncWidths = asyncHeader.map((h, i) => Math.max(h.length, ...asyncLines.map((l) => l[i].length)));
const printAsync = (cells: string[]) =>
  console.log(cells.map((c, i) => (i === 0 ? c.padEnd(asyncWidths[i]) : c.padStart(asyncWidths[i]))).join('  '));
console.log('');
printAsync(asyncHeader);
console.log(asyncWidths.map((w) => '-'.repeat(w)).join('  '));
asyncLines.forEach(printAsync);

const fused = results.get('fused upload 12+4 (MD5+CRC32C+RS+HH)')!;
const md5 = results.get('MD5')!;
const lanes = results.get('MD5, 8 uploads in one call (lanes)')!;
const slower = (a: number, b: number) => `${((b / a - 1) * 100).toFixed(0)}%`;
// The pass no longer interleaves MD5 with the coding (MD5 goes to lanes shared by the uploads in progress), so
// one upload alone pays MD5 plus the coding; eight at once pay the coding plus an eighth of a lane call each.
console.log(
  `\none upload alone at 1 MiB: the pass is ${slower(fused[1], md5[1])} slower than MD5 alone; ` +
    `eight uploads' MD5 in lanes: ${(lanes[1] / md5[1]).toFixed(1)}x the bytes per core of one (target: >= 2 GB/s)`,
);
console.log(
  `targets are checked at 1 MiB (the storage block size); CPU: ${(await import('node:os')).cpus()[0]?.model ?? '?'}`,
);
