// The buckets: listed, created (with object lock if asked: it cannot be turned on later), deleted (a bucket must
// be empty to go).
import { useEffect, useState } from 'preact/hooks';
import { type BucketEntry, createBucket, deleteBucket, listBuckets } from '../s3.js';
import { objectsHref, settingsHref } from '../route.js';
import { ConfirmButton, ErrorLine } from './common.js';

export function BucketsPage() {
  const [buckets, setBuckets] = useState<BucketEntry[]>();
  const [error, setError] = useState<unknown>();
  const [name, setName] = useState('');
  const [objectLock, setObjectLock] = useState(false);
  const reload = () =>
    listBuckets().then(
      (b) => setBuckets(b),
      (e) => setError(e),
    );
  useEffect(() => void reload(), []);
  const act = async (action: () => Promise<void>) => {
    setError(undefined);
    try {
      await action();
      await reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section>
      <h2>Buckets</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            await createBucket(name.trim(), objectLock);
            setName('');
            setObjectLock(false);
          });
        }}
      >
        <input
          name="bucket"
          placeholder="new-bucket-name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          required
        />
        <label>
          <input
            type="checkbox"
            name="objectLock"
            checked={objectLock}
            onChange={(e) => setObjectLock(e.currentTarget.checked)}
          />{' '}
          Object lock
        </label>
        <button type="submit">Create bucket</button>
      </form>
      <ErrorLine error={error} />
      {buckets === undefined && !error && <p>Loading…</p>}
      {buckets?.length === 0 && <p>No buckets yet.</p>}
      {buckets && buckets.length > 0 && (
        <table data-testid="buckets">
          <thead>
            <tr>
              <th>Name</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {buckets.map((b) => (
              <tr key={b.name}>
                <td>
                  <a href={objectsHref(b.name)}>{b.name}</a>
                </td>
                <td>{new Date(b.created).toLocaleString()}</td>
                <td class="actions">
                  <a href={settingsHref(b.name)}>Settings</a>{' '}
                  <ConfirmButton label="Delete" onConfirm={() => void act(() => deleteBucket(b.name))} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
