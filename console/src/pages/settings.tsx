// A bucket's settings: versioning, its policy (JSON, checked as it is typed), CORS rules, tags, lifecycle
// rules (lifecycle.tsx), default encryption and object lock (protection.tsx), event notifications
// (notifications.tsx), replication targets and rules (replication.tsx). Each part loads on its own, so a part the identity may not read shows "Access denied" while the others work.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../bucket-api.js';
import { policyProblem } from '../policy-check.js';
import { objectsHref } from '../route.js';
import { ErrorLine, usePart } from './common.js';
import { Lifecycle } from './lifecycle.js';
import { Notifications } from './notifications.js';
import { Encryption, ObjectLock } from './protection.js';
import { Quota } from './quota.js';
import { Replication } from './replication.js';

export function SettingsPage({ bucket }: { bucket: string }) {
  return (
    <section class="settings">
      <h2>
        <a href="#/">Buckets</a> / <a href={objectsHref(bucket)}>{bucket}</a> / settings
      </h2>
      <Versioning bucket={bucket} />
      <Policy bucket={bucket} />
      <Cors bucket={bucket} />
      <Tags bucket={bucket} />
      <Lifecycle bucket={bucket} />
      <Encryption bucket={bucket} />
      <ObjectLock bucket={bucket} />
      <Quota bucket={bucket} />
      <Notifications bucket={bucket} />
      <Replication bucket={bucket} />
    </section>
  );
}

function Versioning({ bucket }: { bucket: string }) {
  const part = usePart(() => api.getVersioning(bucket), [bucket]);
  return (
    <div data-testid="versioning">
      <h3>Versioning</h3>
      <ErrorLine error={part.error} />
      {part.value !== undefined && (
        <p>
          <span data-testid="versioning-status">{part.value || 'Never enabled'}</span>{' '}
          {part.value !== 'Enabled' ? (
            <button type="button" onClick={() => void part.change(() => api.putVersioning(bucket, 'Enabled'))}>
              Enable
            </button>
          ) : (
            <button type="button" onClick={() => void part.change(() => api.putVersioning(bucket, 'Suspended'))}>
              Suspend
            </button>
          )}
        </p>
      )}
    </div>
  );
}

function Policy({ bucket }: { bucket: string }) {
  const part = usePart(() => api.getPolicy(bucket), [bucket]);
  const [doc, setDoc] = useState('');
  useEffect(() => setDoc(part.value ?? ''), [part.value]);
  const problem = doc.trim() === '' ? undefined : policyProblem(doc);
  return (
    <div data-testid="bucket-policy">
      <h3>Bucket policy</h3>
      <ErrorLine error={part.error} />
      <textarea
        name="bucketPolicy"
        rows={10}
        spellcheck={false}
        value={doc}
        onInput={(e) => setDoc(e.currentTarget.value)}
      />
      {problem && <p class="error">{problem}</p>}
      <button
        type="button"
        disabled={problem !== undefined}
        onClick={() => void part.change(() => (doc.trim() ? api.putPolicy(bucket, doc) : api.deletePolicy(bucket)))}
      >
        {doc.trim() ? 'Save policy' : 'Remove policy'}
      </button>
      {part.saved && <span class="ok"> Saved.</span>}
    </div>
  );
}

const splitList = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

function Cors({ bucket }: { bucket: string }) {
  const part = usePart(() => api.getCors(bucket), [bucket]);
  const [origins, setOrigins] = useState('');
  const [methods, setMethods] = useState('GET');
  const rules = part.value ?? [];
  return (
    <div data-testid="cors">
      <h3>CORS</h3>
      <ErrorLine error={part.error} />
      <table>
        <tbody>
          {rules.map((r, i) => (
            <tr key={i}>
              <td>{r.origins.join(', ')}</td>
              <td>{r.methods.join(', ')}</td>
              <td>{r.headers.join(', ')}</td>
              <td>
                <button
                  type="button"
                  onClick={() =>
                    void part.change(() =>
                      api.putCors(
                        bucket,
                        rules.filter((_, j) => j !== i),
                      ),
                    )
                  }
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          const rule = { origins: splitList(origins), methods: splitList(methods), headers: ['*'] };
          void part.change(() => api.putCors(bucket, [...rules, rule]));
        }}
      >
        <input
          name="corsOrigins"
          placeholder="https://app.example.com"
          value={origins}
          onInput={(e) => setOrigins(e.currentTarget.value)}
        />
        <input name="corsMethods" value={methods} onInput={(e) => setMethods(e.currentTarget.value)} />
        <button type="submit">Add rule</button>
      </form>
    </div>
  );
}

function Tags({ bucket }: { bucket: string }) {
  const part = usePart(() => api.getTags(bucket), [bucket]);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const tags = part.value ?? [];
  return (
    <div data-testid="tags">
      <h3>Tags</h3>
      <ErrorLine error={part.error} />
      <table>
        <tbody>
          {tags.map(([k, v]) => (
            <tr key={k}>
              <td>{k}</td>
              <td>{v}</td>
              <td>
                <button
                  type="button"
                  onClick={() =>
                    void part.change(() =>
                      api.putTags(
                        bucket,
                        tags.filter(([x]) => x !== k),
                      ),
                    )
                  }
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          const rest = tags.filter(([x]) => x !== key);
          void part.change(() => api.putTags(bucket, [...rest, [key, value]]));
        }}
      >
        <input name="tagKey" placeholder="key" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        <input name="tagValue" placeholder="value" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <button type="submit">Set tag</button>
      </form>
    </div>
  );
}
