// Heal: start a heal sequence of a bucket (or every bucket) and prefix, then follow it: a progress bar of the
// objects checked against those found, the healed and failed counts, its end (finished, stopped, failed) and
// each object it repaired or could not. Stop ends it early. Above it, the background healing: its counts and
// each drive's state (healing or not), refreshed on demand. The server refuses who lacks admin:Heal.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../heal-api.js';
import { ErrorLine, usePart } from './common.js';

/** How often a running sequence is asked for its status. */
const POLL_MS = 500;
/** Results kept on the page (a sequence over a big bucket could name many). */
const ITEMS_SHOWN = 1000;

interface Running {
  bucket: string;
  prefix: string;
  token: string;
}

export function HealPage() {
  const [bucket, setBucket] = useState('');
  const [prefix, setPrefix] = useState('');
  const [deep, setDeep] = useState(false);
  const [run, setRun] = useState<Running>();
  const [status, setStatus] = useState<api.HealStatus>();
  const [items, setItems] = useState<api.HealItem[]>([]);
  const [error, setError] = useState<unknown>();

  // Polls the sequence until it ends (or another starts, or the page goes).
  useEffect(() => {
    if (!run) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const s = await api.healStatus(run.bucket, run.prefix, run.token);
        if (!live) return;
        setStatus(s);
        const notable = s.items.filter((i) => i.detail !== 'ok');
        if (notable.length) setItems((now) => [...now, ...notable].slice(-ITEMS_SHOWN));
        if (s.summary === 'running') timer = setTimeout(() => void poll(), POLL_MS);
      } catch (e) {
        if (live) setError(e);
      }
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [run]);

  const start = async () => {
    setError(undefined);
    setStatus(undefined);
    setItems([]);
    try {
      const b = bucket.trim();
      const p = b ? prefix : '';
      setRun({ bucket: b, prefix: p, token: await api.startHeal(b, p, deep) });
    } catch (e) {
      setError(e);
    }
  };
  const running = status?.summary === 'running' || (run !== undefined && status === undefined);
  return (
    <section>
      <h2>Heal</h2>
      <Background />
      <div data-testid="heal">
        <h3>Heal a bucket or prefix</h3>
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void start();
          }}
        >
          <input
            name="healBucket"
            placeholder="bucket (empty: every bucket)"
            value={bucket}
            onInput={(e) => setBucket(e.currentTarget.value)}
          />
          <input
            name="healPrefix"
            placeholder="prefix"
            value={prefix}
            disabled={bucket.trim() === ''}
            onInput={(e) => setPrefix(e.currentTarget.value)}
          />
          <label>
            <input type="checkbox" name="healDeep" checked={deep} onChange={(e) => setDeep(e.currentTarget.checked)} />{' '}
            deep (check every shard's hashes)
          </label>
          <button type="submit" disabled={running}>
            Start heal
          </button>
          {running && run && (
            <button
              type="button"
              name="healStop"
              onClick={() => void api.stopHeal(run.bucket, run.prefix).catch(setError)}
            >
              Stop
            </button>
          )}
        </form>
        <ErrorLine error={error} />
        {status && (
          <div data-testid="heal-status">
            <progress max={Math.max(status.total, 1)} value={status.total === 0 ? 1 : status.scanned} />
            <p data-testid="heal-summary">
              {status.summary}: {status.scanned} of {status.total} objects checked, {status.healed} healed,{' '}
              {status.failed} failed{status.detail ? ` (${status.detail})` : ''}
            </p>
          </div>
        )}
        {items.length > 0 && (
          <table data-testid="heal-items">
            <thead>
              <tr>
                <th>Bucket</th>
                <th>Object</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => (
                <tr key={i.resultId}>
                  <td>{i.bucket}</td>
                  <td>{i.object}</td>
                  <td>{i.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}

function Background() {
  const part = usePart(api.backgroundHeal, []);
  const s = part.value;
  const c = s?.cairn;
  return (
    <div data-testid="background-heal">
      <h3>Background healing</h3>
      <ErrorLine error={part.error} />
      {s && (
        <p data-testid="background-counts">
          {s.ScannedItemsCount} objects scanned
          {c
            ? ` in ${c.scanCycles} full cycles, ${c.healedObjects} healed, ${c.failedObjects} failed, ${c.queued} queued`
            : ''}
        </p>
      )}
      {s && (
        <table data-testid="background-drives">
          <thead>
            <tr>
              <th>Set</th>
              <th>Drive</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {s.sets.flatMap((set) =>
              set.disks.map((d) => (
                <tr key={`${set.id}:${d.endpoint}`}>
                  <td>{set.id}</td>
                  <td>{d.endpoint}</td>
                  <td>{d.healing ? `${d.state}, healing` : d.state}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}
      <button type="button" name="healRefresh" onClick={() => void part.change(async () => {})}>
        Refresh
      </button>
    </div>
  );
}
