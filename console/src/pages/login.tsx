// The login form: access key and secret key, sent once (as the signature of an STS AssumeRole call).
import { useState } from 'preact/hooks';
import { login } from '../login.js';
import { ErrorLine } from './common.js';

export function LoginPage({ message }: { message?: string }) {
  const [accessKey, setAccessKey] = useState('');
  const [secretKey, setSecretKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await login(accessKey.trim(), secretKey);
      setSecretKey('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="login" onSubmit={submit}>
      <h1>Cairn</h1>
      {message && (
        <p class="notice" data-testid="login-message">
          {message}
        </p>
      )}
      <label>
        Access key
        <input
          name="accessKey"
          autoComplete="username"
          value={accessKey}
          onInput={(e) => setAccessKey(e.currentTarget.value)}
          required
        />
      </label>
      <label>
        Secret key
        <input
          name="secretKey"
          type="password"
          autoComplete="current-password"
          value={secretKey}
          onInput={(e) => setSecretKey(e.currentTarget.value)}
          required
        />
      </label>
      <button type="submit" disabled={busy}>
        Log in
      </button>
      <ErrorLine error={error} />
    </form>
  );
}
