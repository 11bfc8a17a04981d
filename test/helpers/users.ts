// The users every test server knows (startTestServer in cairn.ts): the root and a second, non-root user. In a
// file of their own so that signers and unit tests can name them without loading a server.
export const ROOT = { accessKey: 'cairntestroot', secretKey: 'cairn-test-root-secret' };
export const ALT = { accessKey: 'cairntestalt', secretKey: 'cairn-test-alt-secret' };
