// node:http's functions and classes without an ES import of it. An ES import of a built-in module reads every
// export once, and node:http's WebSocket, CloseEvent and MessageEvent getters then load undici (fetch's
// implementation, which the server does not use): ~2.4 MB more heap and ~13 MB more RSS in every JavaScript
// isolate, so in each worker thread of `--worker-mode threads` and in the primary. Import node:http's types
// (`import type`) from node:http itself; its values from here.
import type * as Http from 'node:http';

const http: typeof Http = process.getBuiltinModule('node:http');

export const { Agent, IncomingMessage, createServer, request } = http;
export type Agent = Http.Agent;
export type IncomingMessage = Http.IncomingMessage;
