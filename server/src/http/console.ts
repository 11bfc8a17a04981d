// The web console's files (console/dist, built by `npm ci`), served at /console/ on the S3 address. Only the
// files the build wrote are served, by exact name (no directory listing, no path reaching outside the folder),
// with a strict Content-Security-Policy: the console runs only its own script and talks only to this origin (and
// to the OpenID provider's token endpoint when one is configured: openid.json, the login's public settings).
// A bucket named `console` stays reachable by every signed request; only unsigned GET/HEAD of /console and
// /console/... are the console's (see isConsoleRequest). The single executable (scripts/build-binary.mjs) carries
// the files as assets named `console/<file>`.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getAssetKeys, getRawAsset, isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';
import type { ConsoleOpenId } from '../api/iam/openid.js';

/** Where `npm run build -w console` writes (the same two levels up from server/src/http and server/dist/http). */
export const CONSOLE_DIST = isSea() ? '' : fileURLToPath(new URL('../../../console/dist/', import.meta.url));
/** The console's files among the single executable's assets (scripts/build-binary.mjs). */
const ASSET_PREFIX = 'console/';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The page may load and call only its own origin (and, with an OpenID provider, that provider's token endpoint,
 * which the login's code flow calls); nobody may frame it (clickjacking), no plugin, no <base>. Scripts are its
 * own, and WebAssembly may be compiled ('wasm-unsafe-eval', not eval: the Argon2 of the admin API's sealed answers,
 * madmin.ts).
 */
function securityHeaders(tokenEndpoint?: string): Record<string, string> {
  const connect = tokenEndpoint ? `connect-src 'self' ${new URL(tokenEndpoint).origin}; ` : '';
  return {
    'content-security-policy':
      `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; ${connect}img-src 'self' blob:; object-src 'none'; base-uri 'none'; ` +
      "form-action 'none'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}
const SECURITY_HEADERS = securityHeaders();
/** The OpenID login's public settings (ConsoleOpenId), or 404 without a provider. */
const OPENID_FILE = 'openid.json';

export interface ConsoleAnswer {
  status: number;
  headers: Record<string, string>;
  body?: Buffer | string;
}

/** An unsigned GET or HEAD of /console or below: the browser loading the console, not an S3 request. */
export function isConsoleRequest(method: string, path: string, query: string, authorization: unknown): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (path !== '/console' && !path.startsWith('/console/')) return false;
  if (authorization !== undefined) return false;
  const q = new URLSearchParams(query);
  return !(q.has('X-Amz-Signature') || q.has('X-Amz-Credential') || q.has('Signature'));
}

interface ConsoleFile {
  type: string;
  body: Buffer;
}

/**
 * Serves the built console from `dir`. The files are read once, at the first request after they exist (the build
 * names the script and style sheet by a hash of their content, so they are cached for a year; index.html is
 * revalidated each time).
 */
export class ConsoleFiles {
  private files?: Promise<Map<string, ConsoleFile> | undefined>;

  /** `openid`: the OpenID provider's console settings (OpenIdProvider.consoleLogin), when one is configured. */
  constructor(
    private readonly dir: string = CONSOLE_DIST,
    private readonly openid?: () => Promise<ConsoleOpenId | undefined>,
  ) {}

  async answer(method: string, path: string): Promise<ConsoleAnswer> {
    if (path === '/console') return { status: 301, headers: { location: '/console/', ...SECURITY_HEADERS } };
    const name = path === '/console/' ? 'index.html' : path.slice('/console/'.length);
    // Only the page and its settings need the provider (its token endpoint goes in the page's connect-src).
    const openid = name === 'index.html' || name === OPENID_FILE ? await this.openid?.() : undefined;
    if (name === OPENID_FILE) {
      if (!openid) return text(404, 'No OpenID provider is configured.\n');
      const body = Buffer.from(JSON.stringify(openid));
      return {
        status: 200,
        headers: {
          'content-type': 'application/json',
          'content-length': String(body.length),
          'cache-control': 'no-store',
          ...securityHeaders(openid.tokenEndpoint),
        },
        body: method === 'HEAD' ? undefined : body,
      };
    }
    const files = await (this.files ??= this.load());
    if (!files) {
      this.files = undefined; // built later: tried again at the next request
      return text(503, 'The web console is not built: run `npm run build -w console` (npm ci does it).\n');
    }
    const file = files.get(name);
    if (!file) return text(404, 'Not found.\n');
    const cache = name === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable';
    return {
      status: 200,
      headers: {
        'content-type': file.type,
        'content-length': String(file.body.length),
        'cache-control': cache,
        ...securityHeaders(openid?.tokenEndpoint),
      },
      body: method === 'HEAD' ? undefined : file.body,
    };
  }

  /** The folder's files with a known type (flat: the build writes no subfolder), or undefined when not built. */
  private async load(): Promise<Map<string, ConsoleFile> | undefined> {
    if (isSea() && this.dir === CONSOLE_DIST) return fromExecutable();
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return undefined;
    }
    if (!names.includes('index.html')) return undefined;
    const files = new Map<string, ConsoleFile>();
    for (const name of names) {
      const type = TYPES[name.slice(name.lastIndexOf('.'))];
      if (type) files.set(name, { type, body: await readFile(join(this.dir, name)) });
    }
    return files;
  }
}

/** The console inside the single executable, or undefined when it was built without one. */
function fromExecutable(): Map<string, ConsoleFile> | undefined {
  const files = new Map<string, ConsoleFile>();
  for (const key of getAssetKeys()) {
    const name = key.slice(ASSET_PREFIX.length);
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (key.startsWith(ASSET_PREFIX) && type) files.set(name, { type, body: Buffer.from(getRawAsset(key)) });
  }
  return files.has('index.html') ? files : undefined;
}

function text(status: number, message: string): ConsoleAnswer {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS },
    body: message,
  };
}
