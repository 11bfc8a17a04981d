// A bucket's hard quota in its settings: the limit and the usage against it (a bar), a form to set it in MiB,
// GiB or TiB, and a button to clear it. The server checks the value: its refusal is shown and nothing changes.
import { useState } from 'preact/hooks';
import * as api from '../quota-api.js';
import { ErrorLine, formatSize, usePart } from './common.js';

const UNITS: Record<string, number> = { MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** `amount` of `unit` in whole bytes; refused here when it is not a number at all (the server checks the rest). */
function toBytes(amount: string, unit: string): number {
  const n = Number(amount.trim());
  if (amount.trim() === '' || !Number.isFinite(n)) throw new Error(`Not a size: ${amount}`);
  return Math.round(n * UNITS[unit]);
}

export function Quota({ bucket }: { bucket: string }) {
  const part = usePart(() => api.getQuota(bucket), [bucket]);
  const [amount, setAmount] = useState('');
  const [unit, setUnit] = useState('GiB');
  const q = part.value;
  return (
    <div data-testid="quota">
      <h3>Quota</h3>
      <ErrorLine error={part.error} />
      {q && (
        <p data-testid="quota-status">
          {q.limit > 0
            ? `Hard quota ${formatSize(q.limit)}: ${formatSize(q.usage)} used (${((100 * q.usage) / q.limit).toFixed(1)}%)`
            : `No quota: ${formatSize(q.usage)} used`}
        </p>
      )}
      {q && q.limit > 0 && <progress max={q.limit} value={Math.min(q.usage, q.limit)} />}
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void part.change(() => api.setQuota(bucket, toBytes(amount, unit)));
        }}
      >
        <input
          name="quotaSize"
          inputMode="decimal"
          placeholder="size"
          value={amount}
          onInput={(e) => setAmount(e.currentTarget.value)}
        />
        <select name="quotaUnit" value={unit} onChange={(e) => setUnit(e.currentTarget.value)}>
          {Object.keys(UNITS).map((u) => (
            <option key={u} value={u}>
              {u}
            </option>
          ))}
        </select>
        <button type="submit">Set quota</button>
        {q && q.limit > 0 && (
          <button type="button" name="clearQuota" onClick={() => void part.change(() => api.setQuota(bucket, 0))}>
            Clear quota
          </button>
        )}
      </form>
      {part.saved && <span class="ok"> Saved.</span>}
    </div>
  );
}
