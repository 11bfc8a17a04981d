// Pieces the pages share: the error line (AccessDenied said plainly), sizes, a busy flag, a settings part's state.
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../client.js';

export function ErrorLine({ error }: { error?: unknown }) {
  if (error === undefined) return null;
  let message: string;
  if (error instanceof ApiError && error.code === 'AccessDenied') {
    message = `Access denied: your identity may not do this. (${error.message})`;
  } else if (error instanceof ApiError) message = `${error.code}: ${error.message}`;
  else message = error instanceof Error ? error.message : String(error);
  return (
    <p class="error" role="alert" data-testid="error">
      {message}
    </p>
  );
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A button that asks again in place ("Delete" -> "Really delete?") instead of a dialog box. */
export function ConfirmButton({ label, onConfirm }: { label: string; onConfirm: () => void }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" class="danger" onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span class="confirm">
      <button
        type="button"
        class="danger"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        Really {label.toLowerCase()}?
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** Loads a part's value, and runs its changes, keeping the error of either for the part to show. */
export function usePart<T>(load: () => Promise<T>, deps: unknown[]) {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const reload = () => load().then(setValue, (e) => (setValue(undefined), setError(e)));
  useEffect(() => {
    setError(undefined);
    void reload();
  }, deps);
  const change = async (f: () => Promise<void>) => {
    setError(undefined);
    setSaved(false);
    try {
      await f();
      setSaved(true);
      await reload();
    } catch (e) {
      setError(e);
    }
  };
  return { value, error, saved, change };
}

/** A new access key and its secret, shown this once (the server never gives the secret again). */
export function SecretOnce({
  owner,
  accessKey,
  secretKey,
  onDone,
}: {
  owner: string;
  accessKey: string;
  secretKey: string;
  onDone: () => void;
}) {
  return (
    <div class="secret" data-testid="new-secret">
      <p>
        Access key of <b>{owner}</b>: copy the secret now, it is not shown again.
      </p>
      <dl>
        <dt>Access key</dt>
        <dd data-testid="new-access-key">{accessKey}</dd>
        <dt>Secret key</dt>
        <dd data-testid="new-secret-key">{secretKey}</dd>
      </dl>
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}
