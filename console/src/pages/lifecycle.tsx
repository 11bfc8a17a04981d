// A bucket's lifecycle rules in its settings: each rule (ID, the prefix it names, what it does, its status) with
// Remove, and a form adding a rule that expires objects under a prefix after some days. Names and IDs are text.
import { useState } from 'preact/hooks';
import * as api from '../lifecycle-api.js';
import { ErrorLine, usePart } from './common.js';

export function Lifecycle({ bucket }: { bucket: string }) {
  const part = usePart(() => api.getLifecycle(bucket), [bucket]);
  const [id, setId] = useState('');
  const [prefix, setPrefix] = useState('');
  const [days, setDays] = useState('30');
  const rules = api.rulesOf(part.value);
  return (
    <div data-testid="lifecycle">
      <h3>Lifecycle</h3>
      <ErrorLine error={part.error} />
      {part.value === undefined && !part.error && <p>No rules.</p>}
      <table>
        <tbody>
          {rules.map((r, i) => (
            <tr key={i}>
              <td>{r.id}</td>
              <td>{r.prefix === '' ? '(every object)' : r.prefix}</td>
              <td>{r.actions.join('; ')}</td>
              <td>{r.status}</td>
              <td>
                <button
                  type="button"
                  onClick={() => part.value && void part.change(() => api.removeRule(bucket, part.value!, r))}
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
          void part.change(() => api.addExpiryRule(bucket, part.value, { id, prefix, days }));
        }}
      >
        <input name="lifecycleId" placeholder="rule ID" value={id} onInput={(e) => setId(e.currentTarget.value)} />
        <input
          name="lifecyclePrefix"
          placeholder="prefix (empty: every object)"
          value={prefix}
          onInput={(e) => setPrefix(e.currentTarget.value)}
        />
        <input name="lifecycleDays" inputMode="numeric" value={days} onInput={(e) => setDays(e.currentTarget.value)} />
        <button type="submit">Add expiry rule</button>
      </form>
    </div>
  );
}
