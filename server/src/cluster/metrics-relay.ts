// The whole server's metrics with several workers: the worker a scrape reaches asks the primary, which asks
// every serving worker (the asker too) for its series and hands the lot back; the asker sums them
// (http/metrics.ts). A worker that does not answer in time is left out of that scrape rather than holding it.
import type { MetricsJson, MetricsSharing } from '../http/metrics.js';
import type { Peer } from './coordinator.js';
import type { ToPrimary, ToWorker } from './protocol.js';

/** How long a scrape waits for the workers' series (Prometheus's default scrape timeout is 10 s). */
const ANSWER_MS = 5000;

interface Round {
  asker: Peer;
  askerId: number;
  waiting: Set<Peer>;
  series: MetricsJson[];
  timer: NodeJS.Timeout;
}

/** The primary's side. */
export class MetricsRelay {
  private readonly serving = new Set<Peer>();
  private readonly rounds = new Map<number, Round>();
  private nextRound = 1;

  /** A worker that serves (said ready): it is asked for its series from now on. */
  join(peer: Peer): void {
    this.serving.add(peer);
  }

  /** A worker is gone: nobody waits for its series. */
  leave(peer: Peer): void {
    this.serving.delete(peer);
    for (const [id, round] of this.rounds) {
      round.waiting.delete(peer);
      if (round.waiting.size === 0) this.finish(id, round);
    }
  }

  /** Handles the metrics messages; false for any other. */
  receive(peer: Peer, m: ToPrimary): boolean {
    if (m.t === 'metrics-gather') {
      const id = this.nextRound++;
      const waiting = new Set(this.serving);
      waiting.add(peer);
      const timer = setTimeout(() => this.finish(id, round), ANSWER_MS).unref();
      const round: Round = { asker: peer, askerId: m.id, waiting, series: [], timer };
      this.rounds.set(id, round);
      for (const p of waiting) p.send({ t: 'metrics-ask', id });
      return true;
    }
    if (m.t === 'metrics') {
      const round = this.rounds.get(m.id);
      if (round?.waiting.delete(peer)) {
        round.series.push(m.series);
        if (round.waiting.size === 0) this.finish(m.id, round);
      }
      return true;
    }
    return false;
  }

  private finish(id: number, round: Round): void {
    clearTimeout(round.timer);
    this.rounds.delete(id);
    round.asker.send({ t: 'metrics-all', id: round.askerId, series: round.series });
  }
}

/** A worker's side, over its channel to the primary. */
export function metricsOverPrimary(channel: {
  send(m: ToPrimary): void;
  onMessage(handler: (m: ToWorker) => void): void;
}): MetricsSharing {
  let local: (() => Promise<MetricsJson>) | undefined;
  const waiting = new Map<number, (series: MetricsJson[]) => void>();
  let nextId = 1;
  channel.onMessage((m) => {
    if (m.t === 'metrics-ask') {
      const answer = (series: MetricsJson) => channel.send({ t: 'metrics', id: m.id, series });
      // Not serving yet: an empty answer rather than none (the scrape would wait for it).
      void (local ? local() : Promise.resolve([])).then(answer, () => answer([]));
    } else if (m.t === 'metrics-all') {
      waiting.get(m.id)?.(m.series);
      waiting.delete(m.id);
    }
  });
  return {
    provide: (f) => {
      local = f;
    },
    gather: () =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        channel.send({ t: 'metrics-gather', id });
      }),
  };
}
