// What one load run is: the mode, the target and the shape of the work. Shared by the CLI, the suite
// and the worker threads (it is sent to them as plain data).
import type { PayloadMode } from './client.js';

export const MODES = ['put', 'get', 'get-range', 'head', 'delete', 'mixed', 'small', 'list'] as const;
export type Mode = (typeof MODES)[number];
export type OpKind = 'put' | 'get' | 'head' | 'delete' | 'list';

export interface LoadConfig {
  /** Label of the run in tables and JSON (compare matches runs by it). */
  name: string;
  mode: Mode;
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  bucket: string;
  /** Keys are `${prefix}${index}`, index 0..objects-1. */
  prefix: string;
  objSize: number;
  objects: number;
  concurrency: number;
  durationMs: number;
  /** get-range: bytes per ranged GET. */
  rangeSize: number;
  /** get-range: range starts are multiples of this (1: any byte; 8 MiB: the parts s3torchconnector asks). */
  rangeAlign: number;
  /** mixed: fraction of operations that are GETs (the rest are PUTs). */
  getRatio: number;
  /** list: max-keys of each ListObjectsV2 page. */
  listMaxKeys: number;
  /** Worker threads sharing the concurrency; 0 chooses by object size. */
  workers: number;
  /** Write the objects that get/get-range/head/delete/list need before the timed run. */
  prepare: boolean;
  /** How PUT bodies are signed (default unsigned). */
  payload?: PayloadMode;
  /** PEM of the CA an https endpoint's certificate chains to (suite --tls makes one). */
  ca?: string;
  /** Stop after this many operations (the prepare phase uses it), besides the duration. */
  limit?: number;
}

/** Modes that read or remove objects that must exist beforehand. */
export function needsObjects(mode: Mode): boolean {
  return (
    mode === 'get' ||
    mode === 'get-range' ||
    mode === 'head' ||
    mode === 'delete' ||
    mode === 'list' ||
    mode === 'mixed'
  );
}

/** Modes that send object bodies (and so need the payload buffer). */
export function sendsBodies(mode: Mode): boolean {
  return mode === 'put' || mode === 'mixed' || mode === 'small';
}

export function keyOf(cfg: Pick<LoadConfig, 'prefix'>, index: number): string {
  return `${cfg.prefix}${String(index).padStart(8, '0')}`;
}
