// Access keys: the logged-in identity's own service accounts (MinIO's console calls them access keys). Each has
// its user's rights, or fewer when a policy is given; the secret of a new one is shown once, here.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../access-keys-api.js';
import { currentSession } from '../session.js';
import { POLICY_TEMPLATE, policyProblem } from '../policy-check.js';
import { ConfirmButton, ErrorLine, SecretOnce } from './common.js';

export function AccessKeysPage() {
  const [keys, setKeys] = useState<api.AccessKey[]>([]);
  const [error, setError] = useState<unknown>();
  const [created, setCreated] = useState<{ accessKey: string; secretKey: string }>();
  const reload = async () => setKeys(await api.listAccessKeys());
  useEffect(() => void reload().catch(setError), []);
  const act = async (change: () => Promise<void>) => {
    setError(undefined);
    try {
      await change();
      await reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="access-keys">
      <h2>Access keys</h2>
      <ErrorLine error={error} />
      {created && (
        <SecretOnce
          owner={currentSession()?.user ?? ''}
          accessKey={created.accessKey}
          secretKey={created.secretKey}
          onDone={() => setCreated(undefined)}
        />
      )}
      <table data-testid="access-keys">
        <thead>
          <tr>
            <th>Access key</th>
            <th>Name</th>
            <th>Description</th>
            <th>Rights</th>
            <th>Expires</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.accessKey}>
              <td>{k.accessKey}</td>
              <td>{k.name ?? ''}</td>
              <td>{k.description ?? ''}</td>
              <td>{k.impliedPolicy ? "the user's" : 'narrowed by its policy'}</td>
              <td>{expires(k.expiration)}</td>
              <td>
                <button
                  type="button"
                  onClick={() => void act(() => api.setAccessKeyStatus(k.accessKey, k.accountStatus !== 'on'))}
                >
                  {k.accountStatus === 'on' ? 'Disable' : 'Enable'}
                </button>{' '}
                {k.accountStatus === 'on' ? 'enabled' : 'disabled'}
              </td>
              <td>
                <ConfirmButton label="Delete" onConfirm={() => void act(() => api.deleteAccessKey(k.accessKey))} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <NewKeyForm onCreate={(k) => act(async () => setCreated(await api.createAccessKey(k)))} />
    </section>
  );
}

/** A key that never expires has no expiration, or Go's zero time in MinIO's answers. */
function expires(iso: string | undefined): string {
  if (!iso || iso.startsWith('0001-') || iso.startsWith('1970-01-01T00:00:00')) return 'never';
  return new Date(iso).toLocaleString();
}

function NewKeyForm({ onCreate }: { onCreate: (k: api.NewAccessKey) => Promise<void> }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [expiry, setExpiry] = useState('');
  const [narrow, setNarrow] = useState(false);
  const [policy, setPolicy] = useState(POLICY_TEMPLATE);
  const problem = narrow ? policyProblem(policy) : undefined;
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (problem) return;
        void onCreate({
          name: name.trim(),
          description: description.trim(),
          expiration: expiry ? new Date(expiry).toISOString() : '',
          policy: narrow ? policy : '',
        }).then(() => {
          setName('');
          setDescription('');
          setExpiry('');
          setNarrow(false);
          setPolicy(POLICY_TEMPLATE);
        });
      }}
    >
      <h3>New access key</h3>
      <label>
        Name <input name="keyName" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Description{' '}
        <input name="keyDescription" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </label>
      <label>
        Expires{' '}
        <input
          name="keyExpiry"
          type="datetime-local"
          value={expiry}
          onInput={(e) => setExpiry(e.currentTarget.value)}
        />
      </label>
      <label>
        <input name="keyNarrow" type="checkbox" checked={narrow} onChange={(e) => setNarrow(e.currentTarget.checked)} />{' '}
        Fewer rights than mine: a policy
      </label>
      {narrow && (
        <>
          <textarea
            name="keyPolicy"
            rows={10}
            spellcheck={false}
            value={policy}
            onInput={(e) => setPolicy(e.currentTarget.value)}
          />
          {problem && (
            <p class="error" data-testid="policy-problem">
              {problem}
            </p>
          )}
        </>
      )}
      <button type="submit" disabled={problem !== undefined}>
        Create access key
      </button>
    </form>
  );
}
