// The console's addresses: #/ (buckets), #/b/BUCKET/PREFIX (object browser), #/select, #/identity.
export type Route =
  | { page: 'buckets' }
  | { page: 'objects'; bucket: string; prefix: string }
  | { page: 'select' }
  | { page: 'identity' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '/select') return { page: 'select' };
  if (path === '/identity') return { page: 'identity' };
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
