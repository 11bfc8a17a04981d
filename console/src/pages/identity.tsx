// Identity: users (the secret of a new user's access key is shown once, here, and never again), groups (their
// members and attached policies; a user or a policy added from either side), and managed policies with a JSON editor that checks the document as it is typed.
import { useEffect, useState } from 'preact/hooks';
import { POLICY_TEMPLATE, policyProblem } from '../policy-check.js';
import * as api from './identity-api.js';
import { ConfirmButton, ErrorLine, SecretOnce } from './common.js';

export function IdentityPage() {
  const [users, setUsers] = useState<api.Named[]>([]);
  const [groups, setGroups] = useState<api.Group[]>([]);
  const [policies, setPolicies] = useState<api.PolicyEntry[]>([]);
  const [error, setError] = useState<unknown>();
  const reload = async () => {
    const [u, g, p] = await Promise.all([api.listUsers(), api.listGroupsWithMembers(), api.listPolicies()]);
    setUsers(u);
    setGroups(g);
    setPolicies(p);
  };
  useEffect(() => void reload().catch(setError), []);
  /** Runs a change, then shows the lists again; an error (AccessDenied included) is shown, not thrown. */
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
    <section class="identity">
      <h2>Identity</h2>
      <ErrorLine error={error} />
      <Users users={users} policies={policies} groups={groups} act={act} />
      <Groups groups={groups} users={users} policies={policies} act={act} />
      <Policies policies={policies} act={act} />
    </section>
  );
}

type Act = (change: () => Promise<void>) => Promise<void>;

function Users({
  users,
  policies,
  groups,
  act,
}: {
  users: api.Named[];
  policies: api.PolicyEntry[];
  groups: api.Named[];
  act: Act;
}) {
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ user: string; accessKeyId: string; secretAccessKey: string }>();
  return (
    <div>
      <h3>Users</h3>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            const keys = await api.createUser(name.trim());
            setCreated({ user: name.trim(), ...keys });
            setName('');
          });
        }}
      >
        <input name="userName" placeholder="user name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <button type="submit">Create user</button>
      </form>
      {created && (
        <SecretOnce
          owner={created.user}
          accessKey={created.accessKeyId}
          secretKey={created.secretAccessKey}
          onDone={() => setCreated(undefined)}
        />
      )}
      <table data-testid="users">
        <tbody>
          {users.map((u) => (
            <tr key={u.name}>
              <td>{u.name}</td>
              <td>
                <Attach
                  label="policy"
                  options={policies.map((p) => [p.arn, p.name])}
                  onAttach={(arn) => act(() => api.attachPolicy('User', u.name, arn))}
                />
              </td>
              <td>
                <Attach
                  label="group"
                  options={groups.map((g) => [g.name, g.name])}
                  onAttach={(g) => act(() => api.addUserToGroup(u.name, g))}
                />
              </td>
              <td>
                <ConfirmButton label="Delete" onConfirm={() => void act(() => api.deleteUser(u.name))} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Groups({
  groups,
  users,
  policies,
  act,
}: {
  groups: api.Group[];
  users: api.Named[];
  policies: api.PolicyEntry[];
  act: Act;
}) {
  const [name, setName] = useState('');
  return (
    <div>
      <h3>Groups</h3>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            await api.createGroup(name.trim());
            setName('');
          });
        }}
      >
        <input name="groupName" placeholder="group name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <button type="submit">Create group</button>
      </form>
      <table data-testid="groups">
        <tbody>
          {groups.map((g) => (
            <tr key={g.name}>
              <td>{g.name}</td>
              <td data-testid="group-members">{g.members.join(', ') || '(no members)'}</td>
              <td data-testid="group-policies">{g.policies.join(', ') || '(no policies)'}</td>
              <td>
                <Attach
                  label="user"
                  options={users.filter((u) => !g.members.includes(u.name)).map((u) => [u.name, u.name])}
                  onAttach={(user) => act(() => api.addUserToGroup(user, g.name))}
                />
              </td>
              <td>
                <Attach
                  label="policy"
                  options={policies.filter((p) => !g.policies.includes(p.name)).map((p) => [p.arn, p.name])}
                  onAttach={(arn) => act(() => api.attachPolicy('Group', g.name, arn))}
                />
              </td>
              <td>
                <ConfirmButton label="Delete" onConfirm={() => void act(() => api.deleteGroup(g.name))} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A choice and an "Attach" button (a policy to a user or group, a user to a group). */
function Attach({
  label,
  options,
  onAttach,
}: {
  label: string;
  options: [string, string][];
  onAttach: (value: string) => void;
}) {
  const [value, setValue] = useState('');
  return (
    <span class="attach">
      <select aria-label={`${label} to attach`} value={value} onChange={(e) => setValue(e.currentTarget.value)}>
        <option value="">({label})</option>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
      <button
        type="button"
        disabled={!value}
        onClick={() => {
          onAttach(value);
          setValue('');
        }}
      >
        Attach {label}
      </button>
    </span>
  );
}

function Policies({ policies, act }: { policies: api.PolicyEntry[]; act: Act }) {
  const [name, setName] = useState('');
  const [doc, setDoc] = useState(POLICY_TEMPLATE);
  const [shown, setShown] = useState<{ name: string; doc: string }>();
  const problem = policyProblem(doc);
  return (
    <div>
      <h3>Policies</h3>
      <table data-testid="policies">
        <tbody>
          {policies.map((p) => (
            <tr key={p.arn}>
              <td>{p.name}</td>
              <td>{p.attachments} attached</td>
              <td>
                <button
                  type="button"
                  onClick={() => void act(async () => setShown({ name: p.name, doc: await api.policyDocument(p) }))}
                >
                  Show
                </button>
                <ConfirmButton label="Delete" onConfirm={() => void act(() => api.deletePolicy(p.arn))} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown && (
        <div>
          <h4>{shown.name}</h4>
          <pre>{shown.doc}</pre>
        </div>
      )}
      <form
        class="policy-editor"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            await api.createPolicy(name.trim(), doc);
            setName('');
          });
        }}
      >
        <h4>New policy</h4>
        <input
          name="policyName"
          placeholder="policy name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <textarea
          name="policyDocument"
          rows={14}
          spellcheck={false}
          value={doc}
          onInput={(e) => setDoc(e.currentTarget.value)}
        />
        <p class={problem ? 'error' : 'ok'} data-testid="policy-check">
          {problem ?? 'The document looks valid.'}
        </p>
        <button type="submit" disabled={problem !== undefined || !name.trim()}>
          Create policy
        </button>
      </form>
    </div>
  );
}
