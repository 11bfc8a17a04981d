// A bucket's event notifications in its settings: each configuration (ID, target ARN, events, key filter) with
// Remove, and a form adding one for a target the server has (its ARN, e.g. arn:minio:sqs::1:webhook), the kinds
// of events wanted and an optional prefix/suffix. The server refuses unknown ARNs and overlapping rules.
import { useState } from 'preact/hooks';
import * as api from '../notification-api.js';
import { ErrorLine, usePart } from './common.js';

const EVENT_CHOICES = [
  ['s3:ObjectCreated:*', 'created'],
  ['s3:ObjectRemoved:*', 'removed'],
  ['s3:ObjectAccessed:*', 'read'],
] as const;

export function Notifications({ bucket }: { bucket: string }) {
  const part = usePart(() => api.getNotifications(bucket), [bucket]);
  const [id, setId] = useState('');
  const [arn, setArn] = useState('');
  const [events, setEvents] = useState<string[]>(['s3:ObjectCreated:*']);
  const [prefix, setPrefix] = useState('');
  const [suffix, setSuffix] = useState('');
  const configs = api.notificationsOf(part.value);
  const toggle = (event: string, on: boolean) =>
    setEvents((now) => (on ? [...now.filter((e) => e !== event), event] : now.filter((e) => e !== event)));
  return (
    <div data-testid="notifications">
      <h3>Event notifications</h3>
      <ErrorLine error={part.error} />
      {part.value !== undefined && configs.length === 0 && <p>No notifications.</p>}
      <table>
        <tbody>
          {configs.map((n, i) => (
            <tr key={i}>
              <td>{n.id}</td>
              <td>{n.arn}</td>
              <td>{n.events.join(', ')}</td>
              <td>{[n.prefix && `prefix ${n.prefix}`, n.suffix && `suffix ${n.suffix}`].filter(Boolean).join(', ')}</td>
              <td>
                <button
                  type="button"
                  onClick={() => part.value && void part.change(() => api.removeNotification(bucket, part.value!, n))}
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
          void part.change(() => api.addNotification(bucket, part.value, { id, arn, events, prefix, suffix }));
        }}
      >
        <input name="notifyId" placeholder="ID (optional)" value={id} onInput={(e) => setId(e.currentTarget.value)} />
        <input
          name="notifyArn"
          placeholder="arn:minio:sqs::1:webhook"
          value={arn}
          onInput={(e) => setArn(e.currentTarget.value)}
          required
        />
        {EVENT_CHOICES.map(([event, label]) => (
          <label key={event}>
            <input
              type="checkbox"
              name={`notify-${label}`}
              checked={events.includes(event)}
              onChange={(e) => toggle(event, e.currentTarget.checked)}
            />{' '}
            {label}
          </label>
        ))}
        <input
          name="notifyPrefix"
          placeholder="prefix"
          value={prefix}
          onInput={(e) => setPrefix(e.currentTarget.value)}
        />
        <input
          name="notifySuffix"
          placeholder="suffix"
          value={suffix}
          onInput={(e) => setSuffix(e.currentTarget.value)}
        />
        <button type="submit">Add notification</button>
      </form>
    </div>
  );
}
