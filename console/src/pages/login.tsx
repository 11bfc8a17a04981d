// The login page: access key and secret key, sent once (as the signature of an STS AssumeRole call), and, when
// the server has an OpenID provider, a button for its login (openid.ts), whose return this page also finishes.
import { useEffect, useState } from 'preact/hooks';
import { login } from '../login.js';
import { finishOpenIdLogin, isOpenIdReturn, openIdSettings, type OpenIdSettings, startOpenIdLogin } from '../openid.js';
import { ErrorLine } from './common.js';

export function LoginPage({ message }: { message?: string }) {
  const [accessKey, setAccessKey] = useState('');
  const [secretKey, setSecretKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [openid, setOpenid] = useState<OpenIdSettings>();
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    if (isOpenIdReturn()) void run(finishOpenIdLogin);
    openIdSettings().then(setOpenid, () => setOpenid(undefined));
  }, []);
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await login(accessKey.trim(), secretKey);
      setSecretKey('');
    });
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
      {openid && (
        <button
          type="button"
          data-testid="openid-login"
          disabled={busy}
          onClick={() => void run(() => startOpenIdLogin(openid))}
        >
          Log in with {openid.displayName ?? 'OpenID Connect'}
        </button>
      )}
      <ErrorLine error={error} />
    </form>
  );
}
