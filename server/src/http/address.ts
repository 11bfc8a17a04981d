// The listen address of `cairn server --address`: `HOST:PORT`, `:PORT` (all interfaces) or `[v6]:PORT`.
// Its own small module: the primary of a multi-worker server reads it without loading the HTTP stack.

export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new Error(`invalid address '${address}': expected HOST:PORT or :PORT`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid port in '${address}'`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
