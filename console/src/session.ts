// The logged-in session: ONLY the temporary credentials STS gave (never the long-term secret), kept in
// sessionStorage (this tab only; gone when it closes). No cookie is ever set, so no other site can make the
// browser send an authenticated request for it (no CSRF): every call is signed by this page's script.
import type { Credentials } from './sigv4.js';

export interface Session extends Credentials {
  sessionToken: string;
  /** When the credentials expire (ms since the epoch), as STS said. */
  expiresAt: number;
  /** The region the server signs in. */
  region: string;
  /** The access key the user logged in with (shown in the header). */
  user: string;
}

const KEY = 'cairn.session';
export const EXPIRED_MESSAGE = 'Your session has expired: log in again.';
type Listener = (session: Session | undefined, message?: string) => void;
const listeners = new Set<Listener>();

export function currentSession(): Session | undefined {
  const text = sessionStorage.getItem(KEY);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Session;
  } catch {
    sessionStorage.removeItem(KEY);
    return undefined;
  }
}

export function startSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
  for (const l of listeners) l(session);
}

/** Drops the credentials (log out, or expired: `message` says why on the login page). */
export function endSession(message?: string): void {
  sessionStorage.removeItem(KEY);
  for (const l of listeners) l(undefined, message);
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
