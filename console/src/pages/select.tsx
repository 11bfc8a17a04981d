// S3 Select: pick a bucket and an object, write SQL, run it; the rows show in a table and can be downloaded.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { type BucketEntry, listBuckets, listObjects, type ObjectEntry } from '../s3.js';
import { columnsOf, formatOf, runSelect, type SelectResult } from '../select-api.js';
import { ErrorLine } from './common.js';

const MAX_ROWS_SHOWN = 1000;
/** Completions offered at most at once. */
const MAX_COMPLETIONS = 8;

/** A column as SQL names it: bare when it is a plain identifier, else double-quoted. */
function sqlName(c: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(c) ? c : `"${c.replace(/"/g, '""')}"`;
}

/**
 * The columns completing the word typed just before `caret` (letters, digits, `_`; at least one), with where
 * that word starts. A quoted name is completed from its opening quote.
 */
export function completionsAt(
  text: string,
  caret: number,
  columns: string[],
): { start: number; names: string[] } | undefined {
  const typed = /("?)([A-Za-z0-9_]*)$/.exec(text.slice(0, caret));
  const quote = typed?.[1] ?? '';
  const prefix = (typed?.[2] ?? '').toLowerCase();
  if (!typed || (prefix === '' && quote === '')) return undefined;
  const names = columns
    .filter((c) => c.toLowerCase().startsWith(prefix) && sqlName(c) !== `${quote}${typed[2]}`)
    .slice(0, MAX_COMPLETIONS);
  return names.length > 0 ? { start: caret - typed[0].length, names } : undefined;
}

export function SelectPage() {
  const [buckets, setBuckets] = useState<BucketEntry[]>([]);
  const [bucket, setBucket] = useState('');
  const [objects, setObjects] = useState<ObjectEntry[]>([]);
  const [key, setKey] = useState('');
  const [sql, setSql] = useState('SELECT * FROM S3Object s LIMIT 100');
  const [result, setResult] = useState<SelectResult>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [columns, setColumns] = useState<string[]>([]);
  // The chosen object's columns, to insert into the SQL with a click (a failure only leaves the list empty).
  useEffect(() => {
    setColumns([]);
    if (bucket && key) columnsOf(bucket, key).then(setColumns, () => setColumns([]));
  }, [bucket, key]);
  const insertColumn = (c: string) => setSql(`${sql.trimEnd()} s.${sqlName(c)}`);
  // Completion of column names while typing: the word before the caret, Tab or Enter (or a click) takes the
  // highlighted name, arrows move, Escape closes the list until the next keystroke.
  const sqlBox = useRef<HTMLTextAreaElement>(null);
  const caretAfterRender = useRef<number | undefined>(undefined);
  const [caret, setCaret] = useState(-1);
  const [picked, setPicked] = useState(0);
  const completion = caret >= 0 ? completionsAt(sql, caret, columns) : undefined;
  const complete = (c: string) => {
    if (!completion) return;
    const name = sqlName(c);
    const next = sql.slice(0, completion.start) + name + sql.slice(caret);
    const at = completion.start + name.length;
    setSql(next);
    setCaret(-1);
    caretAfterRender.current = at;
  };
  // The caret goes after a taken name in the render that shows it, before the next keystroke is handled (a
  // later frame would move it back over what was typed meanwhile).
  useLayoutEffect(() => {
    const at = caretAfterRender.current;
    if (at === undefined || !sqlBox.current) return;
    caretAfterRender.current = undefined;
    sqlBox.current.focus();
    sqlBox.current.setSelectionRange(at, at);
  });
  const onSqlKey = (e: KeyboardEvent) => {
    if (!completion) return;
    const n = completion.names.length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setPicked((picked + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
    } else if (e.key === 'Tab' || e.key === 'Enter') {
      e.preventDefault();
      complete(completion.names[Math.min(picked, n - 1)]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      setCaret(-1);
    }
  };
  useEffect(() => void listBuckets().then(setBuckets, setError), []);
  useEffect(() => {
    setObjects([]);
    setKey('');
    // The first page of keys, without folders: Select needs one object.
    if (bucket) listObjects(bucket, '', undefined, 1000).then((l) => setObjects(l.objects), setError);
  }, [bucket]);
  const run = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult(await runSelect(bucket, key, sql, formatOf(key)));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const download = () => {
    if (!result) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([result.raw], { type: 'application/x-ndjson' }));
    a.download = 'select-result.jsonl';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  };
  return (
    <section>
      <h2>S3 Select</h2>
      <form class="select" onSubmit={run}>
        <label>
          Bucket
          <select name="bucket" value={bucket} onChange={(e) => setBucket(e.currentTarget.value)}>
            <option value="">(choose)</option>
            {buckets.map((b) => (
              <option key={b.name} value={b.name}>
                {b.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Object
          <select name="key" value={key} onChange={(e) => setKey(e.currentTarget.value)}>
            <option value="">(choose)</option>
            {objects.map((o) => (
              <option key={o.key} value={o.key}>
                {o.key}
              </option>
            ))}
          </select>
        </label>
        {key && <span class="format">read as {formatOf(key)}</span>}
        <label class="sql">
          SQL
          <textarea
            ref={sqlBox}
            name="sql"
            rows={4}
            value={sql}
            autocomplete="off"
            spellcheck={false}
            onInput={(e) => {
              setSql(e.currentTarget.value);
              setCaret(e.currentTarget.selectionStart);
              setPicked(0);
            }}
            onKeyDown={onSqlKey}
            onBlur={(e) => {
              // Closed once focus has really left (a click on a completion keeps it; a later refocus wins).
              const box = e.currentTarget;
              setTimeout(() => {
                if (document.activeElement !== box) setCaret(-1);
              }, 200);
            }}
          />
        </label>
        {completion && (
          <ul class="completions" data-testid="completions">
            {completion.names.map((c, i) => (
              <li key={c} class={i === picked ? 'picked' : ''}>
                <button type="button" class="link" onMouseDown={(e) => e.preventDefault()} onClick={() => complete(c)}>
                  {c}
                </button>
              </li>
            ))}
          </ul>
        )}
        {columns.length > 0 && (
          <p class="columns" data-testid="columns">
            Columns:{' '}
            {columns.map((c) => (
              <button type="button" key={c} class="link" onClick={() => insertColumn(c)}>
                {c}
              </button>
            ))}
          </p>
        )}
        <button type="submit" disabled={busy || !key}>
          Run
        </button>
      </form>
      <ErrorLine error={error} />
      {result && (
        <div>
          <p>
            {result.rows.length} rows{' '}
            <button type="button" onClick={download}>
              Download result
            </button>
          </p>
          <table data-testid="select-rows">
            <thead>
              <tr>
                {result.columns.map((c) => (
                  <th key={c}>{c}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {result.rows.slice(0, MAX_ROWS_SHOWN).map((r, i) => (
                <tr key={i}>
                  {result.columns.map((c) => (
                    <td key={c}>{r[c] === undefined ? '' : typeof r[c] === 'string' ? r[c] : JSON.stringify(r[c])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
