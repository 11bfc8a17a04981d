// S3 Select: pick a bucket and an object, write SQL, run it; the rows show in a table and can be downloaded.
import { useEffect, useState } from 'preact/hooks';
import { type BucketEntry, listBuckets, listObjects, type ObjectEntry } from '../s3.js';
import { columnsOf, formatOf, runSelect, type SelectResult } from '../select-api.js';
import { ErrorLine } from './common.js';

const MAX_ROWS_SHOWN = 1000;

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
  const insertColumn = (c: string) => {
    const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(c) ? c : `"${c.replace(/"/g, '""')}"`;
    setSql(`${sql.trimEnd()} s.${name}`);
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
          <textarea name="sql" rows={4} value={sql} onInput={(e) => setSql(e.currentTarget.value)} />
        </label>
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
