// Trace: the server's requests as they are answered (the admin API's trace stream, admin:ServerTrace), newest
// first: time, method, path and query, status, duration, time to first byte, bytes in and out, client. Filters
// (errors only, a path prefix, a least duration) are the server's; Start and Stop open and close the stream.
// The page keeps the latest entries only.
import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../trace-api.js';
import { ErrorLine, formatSize } from './common.js';

/** Entries kept on the page. */
const KEPT = 500;

interface Row {
  seq: number;
  entry: api.TraceInfo;
}

const ms = (ns: number) => `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 0)} ms`;

export function TracePage() {
  const [errorsOnly, setErrorsOnly] = useState(false);
  const [path, setPath] = useState('');
  const [threshold, setThreshold] = useState('');
  const [rows, setRows] = useState<Row[]>([]);
  const [state, setState] = useState<'idle' | 'tracing' | 'stopped' | 'ended'>('idle');
  const [error, setError] = useState<unknown>();
  const abort = useRef<AbortController | undefined>(undefined);
  const seq = useRef(0);
  // Leaving the page stops the trace.
  useEffect(() => () => abort.current?.abort(), []);

  const start = () => {
    setError(undefined);
    const thresholdMs = threshold.trim() === '' ? 0 : Number(threshold);
    if (!Number.isFinite(thresholdMs) || thresholdMs < 0) {
      setError(new Error(`Not a duration in milliseconds: ${threshold}`));
      return;
    }
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setRows([]);
    setState('tracing');
    api
      .trace({ errorsOnly, path, thresholdMs }, controller.signal, (entry) => {
        // An entry of a trace already stopped or restarted is not this one's.
        if (abort.current === controller && !controller.signal.aborted)
          setRows((now) => [{ seq: ++seq.current, entry }, ...now].slice(0, KEPT));
      })
      .then(
        () => abort.current === controller && setState(controller.signal.aborted ? 'stopped' : 'ended'),
        (e) => {
          if (abort.current !== controller) return;
          setError(e);
          setState('ended');
        },
      );
  };
  const stop = () => {
    abort.current?.abort();
    setState('stopped');
  };
  return (
    <section data-testid="trace">
      <h2>Trace</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          start();
        }}
      >
        <label>
          <input
            type="checkbox"
            name="traceErrors"
            checked={errorsOnly}
            onChange={(e) => setErrorsOnly(e.currentTarget.checked)}
          />{' '}
          errors only
        </label>
        <input
          name="tracePath"
          placeholder="path prefix (/bucket/...)"
          value={path}
          onInput={(e) => setPath(e.currentTarget.value)}
        />
        <input
          name="traceThreshold"
          inputMode="decimal"
          placeholder="at least (ms)"
          value={threshold}
          onInput={(e) => setThreshold(e.currentTarget.value)}
        />
        <button type="submit">{state === 'tracing' ? 'Restart' : 'Start'}</button>
        {state === 'tracing' && (
          <button type="button" name="traceStop" onClick={stop}>
            Stop
          </button>
        )}
      </form>
      <ErrorLine error={error} />
      <p data-testid="trace-state">
        {state === 'idle'
          ? 'Not tracing.'
          : `${state === 'tracing' ? 'Tracing' : state === 'stopped' ? 'Stopped' : 'The trace ended'}: ${rows.length} requests shown.`}
      </p>
      <table data-testid="trace-rows">
        <thead>
          <tr>
            <th>Time (UTC)</th>
            <th>Call</th>
            <th>Request</th>
            <th>Status</th>
            <th>Duration</th>
            <th>First byte</th>
            <th>In</th>
            <th>Out</th>
            <th>Client</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ seq: n, entry: e }) =>
            e.http ? (
              <tr key={n}>
                <td>{e.time.slice(11, 23)}</td>
                <td>{e.funcname}</td>
                <td>
                  {e.http.request.method} {e.path}
                  {e.http.request.rawquery ? `?${e.http.request.rawquery}` : ''}
                </td>
                <td class={(e.http.response.statuscode ?? 0) >= 400 ? 'error' : ''}>{e.http.response.statuscode}</td>
                <td>{ms(e.dur)}</td>
                <td>{ms(e.http.stats.timetofirstbyte)}</td>
                <td>{formatSize(e.http.stats.inputbytes)}</td>
                <td>{formatSize(e.http.stats.outputbytes)}</td>
                <td>{e.http.request.client}</td>
              </tr>
            ) : (
              <tr key={n}>
                <td>{e.time.slice(11, 23)}</td>
                <td colSpan={8}>{e.msg ?? e.funcname}</td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </section>
  );
}
