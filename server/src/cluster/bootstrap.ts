// The start-up check between the nodes of a distributed deployment (as MinIO's bootstrap-peer-server.go): before
// touching the drives, a node asks every other node for its version and the digest of its arguments
// (endpoints.ts), with a token of its root credentials. It goes on once a majority of the nodes (itself
// included) agree with it; it refuses to start, saying why, once that majority can no longer be reached:
// the others refused its token (other credentials), run another version, or were given other arguments, or
// (https:// nodes) their certificates are not trusted here, or (mutual TLS) this node's is not trusted there. Nodes that do not answer yet are waited for.
import type { Logger } from 'pino';
import { certificateProblem, PEER_CERTIFICATE_REFUSED } from '../storage/rpc/transport.js';
import type { ClusterPlan } from './endpoints.js';
import type { PeerClient, PeerRoutes } from './peers.js';

export interface BootstrapInfo {
  version: string;
  digest: string;
}

/** Serve this node's side of the check. */
export function serveBootstrap(routes: PeerRoutes, info: BootstrapInfo): void {
  routes.set('bootstrap', () => info);
}

type Verdict = 'agrees' | 'waiting' | string;

/** One node's verdict: 'agrees', 'waiting' (no answer yet), or why it cannot be part of this deployment. */
async function ask(client: PeerClient, origin: string, mine: BootstrapInfo): Promise<Verdict> {
  let a: Awaited<ReturnType<PeerClient['call']>>;
  try {
    a = await client.call(origin, 'bootstrap', mine);
  } catch (e) {
    return certificateProblem(e, origin, client.trust) ?? 'waiting';
  }
  if (a.status === 403 && a.error?.startsWith(PEER_CERTIFICATE_REFUSED))
    return `${origin} refused this node's certificate: ${a.error}`;
  if (a.status === 403)
    return `${origin} refused this node's token: the root credentials (CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD) differ`;
  if (a.status !== 200) return 'waiting';
  const theirs = a.value as Partial<BootstrapInfo> | null;
  if (theirs?.version !== mine.version)
    return `${origin} runs Cairn ${String(theirs?.version)}, this node ${mine.version}: every node must run the same version`;
  if (theirs.digest !== mine.digest)
    return `${origin} was started with other drive arguments: every node must be given the same endpoints`;
  return 'agrees';
}

/**
 * An https:// node dials itself once before asking the others: its own certificate, verified with its own
 * trusted roots, must pass as the other nodes will verify it (a node given another CA's certificate, or not
 * given the deployment's CA, is refused here with the reason rather than left unreachable).
 */
export async function checkOwnCertificate(
  plan: Pick<ClusterPlan, 'secure' | 'nodes' | 'self'>,
  client: PeerClient,
  log: Logger,
): Promise<void> {
  if (!plan.secure) return;
  const self = plan.nodes[plan.self];
  let a: Awaited<ReturnType<PeerClient['call']>>;
  try {
    a = await client.call(self, 'bootstrap', null);
  } catch (e) {
    const problem = certificateProblem(e, self, client.trust);
    if (problem) throw new Error(`this node cannot verify its own certificate: ${problem}`);
    log.warn(`could not dial this node's own address ${self} to check its certificate: ${(e as Error).message}`);
    return;
  }
  // Mutual TLS: its own certificate must chain to its CAs/ as the others' must (the system's roots are not enough).
  if (a.status === 403 && a.error?.startsWith(PEER_CERTIFICATE_REFUSED))
    throw new Error(`this node refuses its own certificate: ${a.error}`);
}

/**
 * Resolves once a majority of the nodes agree with this one; rejects when the answers make that majority
 * impossible. `pauseMs` between rounds; progress is logged every `logEveryMs`.
 */
export async function checkPeers(
  plan: Pick<ClusterPlan, 'nodes' | 'self'>,
  client: PeerClient,
  mine: BootstrapInfo,
  log: Logger,
  pauseMs = 250,
  logEveryMs = 5000,
): Promise<void> {
  const others = plan.nodes.filter((_, i) => i !== plan.self);
  const majority = Math.floor(plan.nodes.length / 2) + 1;
  let lastLog = Date.now();
  for (;;) {
    const verdicts = await Promise.all(others.map((o) => ask(client, o, mine)));
    const agree = 1 + verdicts.filter((v) => v === 'agrees').length;
    const waiting = verdicts.filter((v) => v === 'waiting').length;
    const refusals = verdicts.filter((v) => v !== 'agrees' && v !== 'waiting');
    if (agree >= majority) {
      for (const r of refusals) log.warn(r);
      return;
    }
    if (agree + waiting < majority) throw new Error(`this node cannot join the deployment: ${refusals.join('; ')}`);
    if (Date.now() - lastLog >= logEveryMs) {
      lastLog = Date.now();
      log.info(`waiting for the other nodes: ${agree} of ${plan.nodes.length} agree, ${majority} needed`);
    }
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}
