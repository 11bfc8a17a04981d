// policy-tls-version.test.ts again with the S3 listener's TLS done by the addon's rustls (CAIRN_TLS_ENGINE=rustls,
// http/rustls-socket.ts): every HTTPS test runs with both engines. Servers started in this process and the
// `cairn` processes it spawns read the variable (each test file runs in a process of its own).
process.env.CAIRN_TLS_ENGINE = 'rustls';
await import('./policy-tls-version.test.js');
