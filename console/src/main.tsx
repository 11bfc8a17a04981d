// The console's entry: the page shell (header, navigation) and the hash router (route.ts). Which page shows
// depends on whether a session exists.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, endSession, EXPIRED_MESSAGE, onSessionChange, type Session } from './session.js';
import { LoginPage } from './pages/login.js';
import { BucketsPage } from './pages/buckets.js';
import { ObjectsPage } from './pages/objects.js';
import { SelectPage } from './pages/select.js';
import { IdentityPage } from './pages/identity.js';
import { SettingsPage } from './pages/settings.js';
import { DashboardPage } from './pages/dashboard.js';
import { HealPage } from './pages/heal.js';
import { TracePage } from './pages/trace.js';
import { AccessKeysPage } from './pages/access-keys.js';
import { mayHeal, mayReadServerInfo, mayTrace } from './admin-api.js';
import { mayManageIdentity } from './pages/identity-api.js';
import { parseRoute, type Route } from './route.js';

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/** The session kept by this tab, unless it has expired meanwhile (then the login page says so). */
function startingSession(): { session?: Session; message?: string } {
  const session = currentSession();
  if (session && Date.now() >= session.expiresAt) {
    endSession();
    return { message: EXPIRED_MESSAGE };
  }
  return { session };
}

/**
 * The Identity, Dashboard, Heal and Trace pages show only for who may use them: each probes the calls its page
 * makes (identity management, admin:ServerInfo, admin:Heal, admin:ServerTrace), which answer AccessDenied otherwise.
 */
const PAGE_PROBES = {
  identity: mayManageIdentity,
  dashboard: mayReadServerInfo,
  heal: mayHeal,
  trace: mayTrace,
};
type PageProbe = keyof typeof PAGE_PROBES;

function App() {
  const [start] = useState(startingSession);
  const [session, setSession] = useState<Session | undefined>(start.session);
  const [message, setMessage] = useState<string | undefined>(start.message);
  /** What each probe below answered (absent: not yet). */
  const [may, setMay] = useState<Partial<Record<PageProbe, boolean>>>({});
  const route = useRoute();
  useEffect(
    () =>
      onSessionChange((s, why) => {
        setSession(s);
        setMessage(why);
      }),
    [],
  );
  useEffect(() => {
    setMay({});
    if (!session) return;
    let gone = false;
    for (const [name, probe] of Object.entries(PAGE_PROBES) as [PageProbe, () => Promise<boolean>][])
      probe()
        .catch(() => false)
        .then((v) => gone || setMay((m) => ({ ...m, [name]: v })));
    return () => {
      gone = true;
    };
  }, [session?.accessKeyId]);
  if (!session) return <LoginPage message={message} />;
  return (
    <div class="shell">
      <header>
        <a class="brand" href="#/">
          Cairn
        </a>
        <nav data-probed={Object.keys(may).length === Object.keys(PAGE_PROBES).length ? 'all' : 'some'}>
          <a href="#/" class={['buckets', 'objects', 'settings'].includes(route.page) ? 'active' : ''}>
            Buckets
          </a>
          <a href="#/select" class={route.page === 'select' ? 'active' : ''}>
            Select
          </a>
          {may.dashboard && (
            <a href="#/dashboard" class={route.page === 'dashboard' ? 'active' : ''}>
              Dashboard
            </a>
          )}
          {may.heal && (
            <a href="#/heal" class={route.page === 'heal' ? 'active' : ''}>
              Heal
            </a>
          )}
          {may.trace && (
            <a href="#/trace" class={route.page === 'trace' ? 'active' : ''}>
              Trace
            </a>
          )}
          {may.identity && (
            <a href="#/identity" class={route.page === 'identity' ? 'active' : ''}>
              Identity
            </a>
          )}
          <a href="#/keys" class={route.page === 'keys' ? 'active' : ''}>
            Access keys
          </a>
        </nav>
        <span class="who" data-testid="who">
          {session.user}
        </span>
        <button type="button" onClick={() => endSession('You have logged out.')}>
          Log out
        </button>
      </header>
      <main>
        {route.page === 'buckets' && <BucketsPage />}
        {route.page === 'objects' && <ObjectsPage bucket={route.bucket} prefix={route.prefix} />}
        {route.page === 'select' && <SelectPage />}
        {route.page === 'identity' && <IdentityPage />}
        {route.page === 'settings' && <SettingsPage bucket={route.bucket} />}
        {route.page === 'dashboard' && <DashboardPage />}
        {route.page === 'heal' && <HealPage />}
        {route.page === 'trace' && <TracePage />}
        {route.page === 'keys' && <AccessKeysPage />}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
