// CPU per call of sealing and opening one object's data key under its key-encryption key (api/sse/packages.ts:
// every SSE PUT seals one; every SSE GET whose key is not in the KMS key cache, and every SSE-C GET, opens one),
// as the server does it (the addon's single-message AES-256-GCM) and as it did before (node:crypto's).
//   npm run data-key -w bench      (node --conditions=source --import tsx kernels/data-key.bench.ts)
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { sealDataKey, unsealDataKey } from '../../server/src/api/sse/packages.js';

const AAD = Buffer.from('cairn data key v1:');
const kek = randomBytes(32);
const dataKey = randomBytes(32);
const objectId = randomBytes(16);

function nodeSeal(): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(Buffer.concat([AAD, objectId]));
  return Buffer.concat([iv, c.update(dataKey), c.final(), c.getAuthTag()]);
}

function nodeOpen(sealed: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', kek, sealed.subarray(0, 12));
  d.setAAD(Buffer.concat([AAD, objectId]));
  d.setAuthTag(sealed.subarray(44));
  const key = d.update(sealed.subarray(12, 44));
  d.final();
  return key;
}

/** Microseconds of this process's CPU per call (process.cpuUsage: a loaded machine slows the clock, less this). */
function perCall(f: () => unknown, calls = 200_000): number {
  for (let i = 0; i < calls / 10; i++) f();
  const t0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) f();
  const u = process.cpuUsage(t0);
  return (u.user + u.system) / calls;
}

const sealed = sealDataKey(kek, dataKey, objectId);
if (!nodeOpen(sealed).equals(dataKey) || !unsealDataKey(kek, nodeSeal(), objectId)?.equals(dataKey)) {
  throw new Error('the two forms disagree');
}
const rows: [string, number, number][] = [
  ['seal a data key', perCall(() => sealDataKey(kek, dataKey, objectId)), perCall(nodeSeal)],
  ['open a data key', perCall(() => unsealDataKey(kek, sealed, objectId)), perCall(() => nodeOpen(sealed))],
];
console.log('data key (32 bytes, AES-256-GCM)  server (addon) us/call  node:crypto us/call');
for (const [name, ours, node] of rows) {
  console.log(`${name.padEnd(33)}  ${ours.toFixed(2).padStart(22)}  ${node.toFixed(2).padStart(19)}`);
}
