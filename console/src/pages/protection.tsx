// A bucket's protections in its settings: default encryption (none, SSE-S3, SSE-KMS with a key id) and object
// lock (shown as off for buckets created without it, which S3 cannot turn on later; the default retention's mode
// and period). The server checks every value: its refusal is shown and nothing changes.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../protection-api.js';
import { ErrorLine, usePart } from './common.js';

export function Encryption({ bucket }: { bucket: string }) {
  const part = usePart(() => api.getEncryption(bucket), [bucket]);
  const [algorithm, setAlgorithm] = useState('');
  const [keyId, setKeyId] = useState('');
  useEffect(() => {
    setAlgorithm(part.value?.algorithm ?? '');
    setKeyId(part.value?.keyId ?? '');
  }, [part.value]);
  // undefined while loading, null for none.
  const current = part.value;
  const label = !current
    ? 'None'
    : current.algorithm === 'AES256'
      ? 'SSE-S3 (AES256)'
      : `SSE-KMS (${current.keyId || 'default key'})`;
  return (
    <div data-testid="encryption">
      <h3>Default encryption</h3>
      <ErrorLine error={part.error} />
      {current !== undefined && <p data-testid="encryption-status">{label}</p>}
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void part.change(() => api.putEncryption(bucket, algorithm ? { algorithm, keyId } : undefined));
        }}
      >
        <select name="sseAlgorithm" value={algorithm} onChange={(e) => setAlgorithm(e.currentTarget.value)}>
          <option value="">None</option>
          <option value="AES256">SSE-S3</option>
          <option value="aws:kms">SSE-KMS</option>
        </select>
        {algorithm === 'aws:kms' && (
          <input
            name="kmsKeyId"
            placeholder="KMS key id (empty: default key)"
            value={keyId}
            onInput={(e) => setKeyId(e.currentTarget.value)}
          />
        )}
        <button type="submit">Save encryption</button>
      </form>
    </div>
  );
}

export function ObjectLock({ bucket }: { bucket: string }) {
  const part = usePart(() => api.getObjectLock(bucket), [bucket]);
  const [mode, setMode] = useState<api.ObjectLock['mode']>('');
  const [period, setPeriod] = useState('');
  const [unit, setUnit] = useState<api.ObjectLock['unit']>('Days');
  useEffect(() => {
    setMode(part.value?.mode ?? '');
    setPeriod(part.value?.period ?? '');
    setUnit(part.value?.unit ?? 'Days');
  }, [part.value]);
  const lock = part.value; // undefined while loading, null when the bucket has no object lock
  return (
    <div data-testid="object-lock">
      <h3>Object lock</h3>
      <ErrorLine error={part.error} />
      {lock === null && (
        <p data-testid="object-lock-status">Off: object lock can only be turned on when a bucket is created.</p>
      )}
      {lock && (
        <>
          <p data-testid="object-lock-status">
            {lock.mode
              ? `On, new versions kept ${lock.period} ${lock.unit.toLowerCase()} in ${lock.mode} mode`
              : 'On, no default retention'}
          </p>
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              void part.change(() => api.putObjectLock(bucket, { mode, period, unit }));
            }}
          >
            <select
              name="lockMode"
              value={mode}
              onChange={(e) => setMode(e.currentTarget.value as api.ObjectLock['mode'])}
            >
              <option value="">No default retention</option>
              <option value="GOVERNANCE">GOVERNANCE</option>
              <option value="COMPLIANCE">COMPLIANCE</option>
            </select>
            {mode !== '' && (
              <>
                <input
                  name="lockPeriod"
                  inputMode="numeric"
                  placeholder="period"
                  value={period}
                  onInput={(e) => setPeriod(e.currentTarget.value)}
                />
                <select
                  name="lockUnit"
                  value={unit}
                  onChange={(e) => setUnit(e.currentTarget.value as api.ObjectLock['unit'])}
                >
                  <option value="Days">days</option>
                  <option value="Years">years</option>
                </select>
              </>
            )}
            <button type="submit">Save retention</button>
          </form>
        </>
      )}
      {part.saved && <span class="ok"> Saved.</span>}
    </div>
  );
}
