// The console's addresses: #/ (buckets), #/b/BUCKET/PREFIX (object browser), #/settings/BUCKET, #/select,
// #/identity, #/dashboard, #/heal, #/trace, #/keys.
export type Route =
  | { page: 'buckets' }
  | { page: 'objects'; bucket: string; prefix: string }
  | { page: 'select' }
  | { page: 'identity' }
  | { page: 'settings'; bucket: string }
  | { page: 'dashboard' }
  | { page: 'heal' }
  | { page: 'trace' }
  | { page: 'keys' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '/select') return { page: 'select' };
  if (path === '/identity') return { page: 'identity' };
  if (path === '/dashboard') return { page: 'dashboard' };
  if (path === '/heal') return { page: 'heal' };
  if (path === '/trace') return { page: 'trace' };
  if (path === '/keys') return { page: 'keys' };
  const settings = /^\/settings\/([^/]+)$/.exec(path);
  if (settings) {
    try {
      return { page: 'settings', bucket: decodeURIComponent(settings[1]) };
    } catch {
      return { page: 'buckets' };
    }
  }
  const m = /^\/b\/([^/]+)\/?(.*)$/.exec(path);
  if (m) {
    try {
      return { page: 'objects', bucket: decodeURIComponent(m[1]), prefix: decodeURIComponent(m[2]) };
    } catch {
      return { page: 'buckets' };
    }
  }
  return { page: 'buckets' };
}

export const objectsHref = (bucket: string, prefix = ''): string =>
  `#/b/${encodeURIComponent(bucket)}/${encodeURIComponent(prefix)}`;

export const settingsHref = (bucket: string): string => `#/settings/${encodeURIComponent(bucket)}`;
