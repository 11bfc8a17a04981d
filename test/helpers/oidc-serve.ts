// Runs the test OpenID provider (oidc.ts) for the Python suites: `node --import tsx oidc-serve.ts ACCOUNTS_JSON`.
// Prints one JSON line (issuer, discovery URL, client) once it serves; stops when stdin closes or on SIGTERM.
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, startOidcProvider } from './oidc.js';

const idp = await startOidcProvider(JSON.parse(process.argv[2] ?? '{}'));
const info = {
  issuer: idp.issuer,
  configUrl: idp.configUrl,
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  redirectUri: REDIRECT_URI,
};
process.stdout.write(`${JSON.stringify(info)}\n`);
const stop = () => void idp.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
