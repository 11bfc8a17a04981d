// What a server loads before its first request. Client libraries of features most servers never use (the
// notification targets' brokers, LDAP, JWTs for OpenID and Prometheus tokens, the AWS SDK of tiers and
// replication, the Select engine) are imported on first use, so an idle worker does not carry their code; and a
// cluster's primary, which serves nothing, loads neither the HTTP stack nor the storage engine.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../..', import.meta.url));

/** The URLs of every module a fresh node process resolves while importing `entries` (server sources). */
function importedBy(entries: string[]): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
    for (const e of ${JSON.stringify(entries)}) await import(new URL(e, ${JSON.stringify(`file://${repo}/`)}).href);
    process.stdout.write(JSON.stringify([...seen]));
  `;
  const r = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: repo,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as string[];
}

const LOADED_ON_FIRST_USE = ['kafkajs', 'ioredis', 'pg', 'mqtt', 'nats', 'amqplib', 'ldapts', 'jose', '@aws-sdk'];
const packageOf = (url: string) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
/** The Select engine's entry (its small wildcard matcher serves policies and is loaded at start). */
const isLazy = (url: string) =>
  LOADED_ON_FIRST_USE.some((p) => packageOf(url)?.startsWith(p)) || url.endsWith('/select-engine/src/index.ts');

describe('modules loaded at start', () => {
  it('a serving process loads no client library of an unused feature', () => {
    const urls = importedBy(['server/src/cli/server.ts', 'server/src/main.ts', 'server/src/cluster/worker.ts']);
    expect(urls.some((u) => u.includes('/server/src/http/app.ts'))).toBe(true); // the walk saw the server
    expect(urls.filter(isLazy)).toEqual([]);
  });

  it("a cluster's primary loads neither the HTTP stack nor the storage engine", () => {
    const urls = importedBy(['server/src/cli/server.ts', 'server/src/cluster/primary.ts']);
    expect(urls.some((u) => u.includes('/server/src/storage/drive/format.ts'))).toBe(true);
    const heavy = urls.filter(
      (u) =>
        isLazy(u) ||
        ['fastify', 'fast-xml-parser', 'prom-client'].includes(packageOf(u) ?? '') ||
        /\/server\/src\/(http\/app|storage\/engine\/|api\/index)/.test(u),
    );
    expect(heavy).toEqual([]);
  });
});
