// A bucket's replication in its settings: its remote targets (endpoint, bucket, access key, ARN) with Remove and
// a form adding one (the server probes it: the bucket exists, the keys reach it, both buckets are versioned),
// then its rules (ID, priority, prefix, target, delete markers, existing objects) with Remove and a form adding
// one for a listed target. The server's refusals are shown and change nothing. The secret typed for a target
// goes sealed to the server, is cleared from the form once added and is never listed back. Each target can get
// new credentials (probed by the server, sealed as when added) and a resync of the bucket's existing objects,
// whose progress is followed every second while it runs.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../replication-api.js';
import { ErrorLine, usePart } from './common.js';

const targetUrl = (t: api.Target) => `${t.secure ? 'https' : 'http'}://${t.endpoint}/${t.targetbucket}`;

export function Replication({ bucket }: { bucket: string }) {
  const part = usePart(() => api.getReplication(bucket), [bucket]);
  const targets = part.value?.targets ?? [];
  const rules = api.rulesOf(part.value?.doc);
  const resync = useResyncs(bucket, part.value);
  const [editing, setEditing] = useState<string>();
  const edited = targets.find((t) => t.arn === editing);
  const where = (arn: string) => {
    const t = targets.find((x) => x.arn === arn);
    return t ? targetUrl(t) : arn;
  };
  return (
    <div data-testid="replication">
      <h3>Replication</h3>
      <ErrorLine error={part.error} />
      <h4>Remote targets</h4>
      {part.value !== undefined && targets.length === 0 && <p>No targets.</p>}
      <table data-testid="replication-targets">
        <tbody>
          {targets.map((t) => (
            <tr key={t.arn}>
              <td>{targetUrl(t)}</td>
              <td>{t.credentials?.accessKey ?? ''}</td>
              <td>{t.region ?? ''}</td>
              <td class="arn">{t.arn}</td>
              <td data-testid="resync-status">
                <ResyncCell r={resync.value[t.arn]} />
              </td>
              <td>
                <button
                  type="button"
                  name="replResync"
                  onClick={() => void part.change(() => api.startResync(bucket, t.arn))}
                >
                  Resync
                </button>{' '}
                <button type="button" name="replCreds" onClick={() => setEditing(t.arn)}>
                  Credentials
                </button>{' '}
                <button
                  type="button"
                  name="replRemove"
                  onClick={() => void part.change(() => api.removeTarget(bucket, t.arn))}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorLine error={resync.error} />
      {edited && (
        <UpdateCredentials
          bucket={bucket}
          target={edited}
          change={part.change}
          done={() => setEditing(undefined)}
          key={edited.arn}
        />
      )}
      <AddTarget bucket={bucket} change={part.change} />
      <h4>Rules</h4>
      {part.value !== undefined && rules.length === 0 && <p>No rules.</p>}
      <table data-testid="replication-rules">
        <tbody>
          {rules.map((r) => (
            <tr key={`${r.priority}:${r.id}`}>
              <td>{r.id}</td>
              <td>{r.enabled ? 'Enabled' : 'Disabled'}</td>
              <td>priority {r.priority}</td>
              <td>{r.prefix ? `prefix ${r.prefix}` : 'every object'}</td>
              <td>{where(r.destination)}</td>
              <td>
                {[r.deleteMarkers && 'delete markers', r.existingObjects && 'existing objects']
                  .filter(Boolean)
                  .join(', ')}
              </td>
              <td>
                <button
                  type="button"
                  onClick={() => {
                    const doc = part.value?.doc;
                    if (doc) void part.change(() => api.removeRule(bucket, doc, r));
                  }}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddRule bucket={bucket} targets={targets} doc={part.value?.doc} change={part.change} />
      {part.saved && <span class="ok"> Saved.</span>}
    </div>
  );
}

type Change = (f: () => Promise<void>) => Promise<void>;

/** A resync's state, and a bar of its progress once the versions to replicate are counted. */
function ResyncCell({ r }: { r?: api.Resync }) {
  if (!r) return null;
  const progress = api.resyncProgress(r);
  return (
    <>
      {progress && (
        <progress
          data-testid="resync-progress"
          max={Math.max(progress[1], 1)}
          value={progress[1] === 0 ? 1 : progress[0]}
        />
      )}
      {`resync ${r.resyncStatus}: ${r.replicationCount} replicated, ${r.failedReplicationCount} failed`}
    </>
  );
}

/** The bucket's resyncs, read again when the part changes and every second while one runs. */
function useResyncs(bucket: string, changed: unknown) {
  const [value, setValue] = useState<Record<string, api.Resync>>({});
  const [error, setError] = useState<unknown>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let gone = false;
    api.resyncs(bucket).then(
      (r) => {
        if (gone) return;
        setValue(r);
        setError(undefined);
      },
      (e) => {
        if (!gone) setError(e);
      },
    );
    return () => {
      gone = true;
    };
  }, [bucket, changed, tick]);
  const running = Object.values(value).some((r) => r.resyncStatus === 'Ongoing');
  useEffect(() => {
    if (!running) return;
    const timer = setTimeout(() => setTick((n) => n + 1), 1000);
    return () => clearTimeout(timer);
  }, [running, value]);
  return { value, error };
}

/** New keys for a target; the secret is cleared once the server has taken them. */
function UpdateCredentials({
  bucket,
  target,
  change,
  done,
}: {
  bucket: string;
  target: api.Target;
  change: Change;
  done: () => void;
}) {
  const [accessKey, setAccessKey] = useState(target.credentials?.accessKey ?? '');
  const [secretKey, setSecretKey] = useState('');
  return (
    <form
      class="inline"
      data-testid="replication-credentials"
      onSubmit={(e) => {
        e.preventDefault();
        void change(async () => {
          await api.updateCredentials(bucket, target, accessKey, secretKey);
          setSecretKey('');
          done();
        });
      }}
    >
      <span>New credentials for {targetUrl(target)}:</span>
      <Keys
        names={['replNewAccessKey', 'replNewSecretKey']}
        keys={[accessKey, secretKey]}
        set={[setAccessKey, setSecretKey]}
      />
      <button type="submit">Update credentials</button>
      <button type="button" name="replCredsCancel" onClick={done}>
        Cancel
      </button>
    </form>
  );
}

function AddTarget({ bucket, change }: { bucket: string; change: Change }) {
  const [url, setUrl] = useState('');
  const [targetBucket, setTargetBucket] = useState('');
  const [accessKey, setAccessKey] = useState('');
  const [secretKey, setSecretKey] = useState('');
  const [region, setRegion] = useState('');
  return (
    <form
      class="inline"
      data-testid="replication-add-target"
      onSubmit={(e) => {
        e.preventDefault();
        void change(async () => {
          await api.addTarget(bucket, { url, targetBucket, accessKey, secretKey, region });
          setSecretKey('');
        });
      }}
    >
      <Field name="replUrl" placeholder="https://host:9000" value={url} set={setUrl} required />
      <Field name="replBucket" placeholder="target bucket" value={targetBucket} set={setTargetBucket} required />
      <Keys
        names={['replAccessKey', 'replSecretKey']}
        keys={[accessKey, secretKey]}
        set={[setAccessKey, setSecretKey]}
      />
      <Field name="replRegion" placeholder="region" value={region} set={setRegion} />
      <button type="submit">Add target</button>
    </form>
  );
}

function AddRule({
  bucket,
  targets,
  doc,
  change,
}: {
  bucket: string;
  targets: api.Target[];
  doc?: Document;
  change: Change;
}) {
  const [id, setId] = useState('');
  const [prefix, setPrefix] = useState('');
  const [arn, setArn] = useState('');
  const [deleteMarkers, setDeleteMarkers] = useState(true);
  const [existingObjects, setExistingObjects] = useState(false);
  // The first target until one is picked (or when the picked one is gone).
  const chosen = targets.some((t) => t.arn === arn) ? arn : (targets[0]?.arn ?? '');
  if (targets.length === 0) return <p>Add a target to replicate to.</p>;
  return (
    <form
      class="inline"
      data-testid="replication-add-rule"
      onSubmit={(e) => {
        e.preventDefault();
        void change(() => api.addRule(bucket, doc, { id, prefix, arn: chosen, deleteMarkers, existingObjects }));
      }}
    >
      <Field name="replRuleId" placeholder="ID (optional)" value={id} set={setId} />
      <Field name="replPrefix" placeholder="prefix (all)" value={prefix} set={setPrefix} />
      <select name="replTarget" value={chosen} onChange={(e) => setArn(e.currentTarget.value)}>
        {targets.map((t) => (
          <option key={t.arn} value={t.arn}>
            {targetUrl(t)}
          </option>
        ))}
      </select>
      <Check name="replDeleteMarkers" label="delete markers" checked={deleteMarkers} set={setDeleteMarkers} />
      <Check name="replExisting" label="existing objects" checked={existingObjects} set={setExistingObjects} />
      <button type="submit">Add rule</button>
    </form>
  );
}

interface FieldProps {
  name: string;
  placeholder: string;
  value: string;
  set: (v: string) => void;
  required?: boolean;
  type?: 'text' | 'password';
  autocomplete?: 'off' | 'new-password';
}

/** A text input bound to a state value (every form row of the page). */
function Field({ set, type = 'text', ...props }: FieldProps) {
  return type === 'password' ? (
    <input {...props} type="password" onInput={(e) => set(e.currentTarget.value)} />
  ) : (
    <input {...props} type="text" onInput={(e) => set(e.currentTarget.value)} />
  );
}

/** An access key and its secret (the secret typed, never shown, not offered to the browser's autofill). */
function Keys({
  names,
  keys,
  set,
}: {
  names: [string, string];
  keys: [string, string];
  set: [(v: string) => void, (v: string) => void];
}) {
  return (
    <>
      <Field name={names[0]} placeholder="access key" autocomplete="off" value={keys[0]} set={set[0]} required />
      <Field
        name={names[1]}
        type="password"
        placeholder="secret key"
        autocomplete="new-password"
        value={keys[1]}
        set={set[1]}
        required
      />
    </>
  );
}

function Check({
  name,
  label,
  checked,
  set,
}: {
  name: string;
  label: string;
  checked: boolean;
  set: (v: boolean) => void;
}) {
  return (
    <label>
      <input type="checkbox" name={name} checked={checked} onChange={(e) => set(e.currentTarget.checked)} /> {label}
    </label>
  );
}
