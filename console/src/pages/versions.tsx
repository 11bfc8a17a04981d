// One object's versions in its preview: each version (date, size or delete marker, latest) with Remove; in a
// bucket with object lock, each version's retention and legal hold, and a form setting them for one version. A
// version that is locked cannot be removed: the server's refusal is shown and the version stays.
import { useEffect, useState } from 'preact/hooks';
import { getObjectLock } from '../protection-api.js';
import * as api from '../version-api.js';
import { ConfirmButton, ErrorLine, formatSize, usePart } from './common.js';

export function Versions({ bucket, objectKey }: { bucket: string; objectKey: string }) {
  const part = usePart(() => api.listVersions(bucket, objectKey), [bucket, objectKey]);
  // Lock columns only in a bucket with object lock (an identity that may not read its settings sees none).
  const lock = usePart(() => getObjectLock(bucket).catch(() => null), [bucket]);
  const locked = !!lock.value;
  const [managing, setManaging] = useState<string>();
  // Bumped after each change, so each version's lock state is read again.
  const [generation, setGeneration] = useState(0);
  useEffect(() => setManaging(undefined), [bucket, objectKey]);
  const change = async (f: () => Promise<void>) => {
    await part.change(f);
    setGeneration((g) => g + 1);
  };
  return (
    <div class="versions" data-testid="versions">
      <h4>Versions</h4>
      <ErrorLine error={part.error} />
      <table>
        <tbody>
          {(part.value ?? []).map((v) => (
            <tr key={v.versionId} data-version={v.versionId}>
              <td>{new Date(v.modified).toLocaleString()}</td>
              <td>{v.deleteMarker ? 'delete marker' : formatSize(v.size)}</td>
              <td>{v.latest ? 'latest' : ''}</td>
              {locked && (
                <td>
                  {v.deleteMarker ? (
                    ''
                  ) : (
                    <LockCell bucket={bucket} objectKey={objectKey} v={v} generation={generation} />
                  )}
                </td>
              )}
              <td class="actions">
                {locked && !v.deleteMarker && (
                  <button type="button" onClick={() => setManaging(v.versionId)}>
                    Lock…
                  </button>
                )}{' '}
                <ConfirmButton
                  label="Remove"
                  onConfirm={() => void change(() => api.deleteVersion(bucket, objectKey, v.versionId))}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {managing !== undefined && (
        <LockForm key={managing} bucket={bucket} objectKey={objectKey} versionId={managing} onDone={change} />
      )}
    </div>
  );
}

function describe(s: api.LockState): string {
  const parts: string[] = [];
  if (s.mode) parts.push(`${s.mode} until ${new Date(s.until).toLocaleString()}`);
  if (s.legalHold) parts.push('legal hold');
  return parts.join(', ') || 'not locked';
}

function LockCell(props: { bucket: string; objectKey: string; v: api.VersionEntry; generation: number }) {
  const { bucket, objectKey, v } = props;
  const part = usePart(
    () => api.getLockState(bucket, objectKey, v.versionId),
    [bucket, objectKey, v.versionId, props.generation],
  );
  if (part.error) return <ErrorLine error={part.error} />;
  return <span data-testid="lock-state">{part.value ? describe(part.value) : '…'}</span>;
}

/**
 * Retention (mode and a date) and legal hold for one version; the server decides what may change, and its
 * refusal shows on the versions' error line.
 */
function LockForm(props: {
  bucket: string;
  objectKey: string;
  versionId: string;
  onDone: (f: () => Promise<void>) => Promise<void>;
}) {
  const { bucket, objectKey, versionId } = props;
  const [mode, setMode] = useState('GOVERNANCE');
  const [date, setDate] = useState('');
  const [hold, setHold] = useState(false);
  const [initial, setInitial] = useState({ mode: '', date: '' });
  // The form starts from the version's state, so saving a retention leaves a legal hold as it was.
  useEffect(() => {
    api.getLockState(bucket, objectKey, versionId).then(
      (s) => {
        if (s.mode) setMode(s.mode);
        if (s.until) setDate(s.until.slice(0, 10));
        setInitial({ mode: s.mode, date: s.until.slice(0, 10) });
        setHold(s.legalHold);
      },
      () => undefined, // the row's lock cell shows the error
    );
  }, [bucket, objectKey, versionId]);
  return (
    <form
      class="inline lock-form"
      data-testid="lock-form"
      onSubmit={(e) => {
        e.preventDefault();
        void props.onDone(async () => {
          // A retention is sent only when changed: the date shown is the day of the current one, not its time.
          const changed = mode !== initial.mode || date !== initial.date;
          if (date && changed) await api.putRetention(bucket, objectKey, versionId, mode, new Date(date).toISOString());
          await api.putLegalHold(bucket, objectKey, versionId, hold);
        });
      }}
    >
      <select name="retentionMode" value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
        <option value="GOVERNANCE">GOVERNANCE</option>
        <option value="COMPLIANCE">COMPLIANCE</option>
      </select>
      <input name="retainUntil" type="date" value={date} onInput={(e) => setDate(e.currentTarget.value)} />
      <label>
        <input type="checkbox" name="legalHold" checked={hold} onChange={(e) => setHold(e.currentTarget.checked)} />{' '}
        legal hold
      </label>
      <button type="submit">Save lock</button>
    </form>
  );
}
