// A pass over a GET batch's bytes in the pool task that reads and checks them (src/read_pass.rs): S3 Select's
// CSV line filter (csv.ts PiecePass) run on each data shard's piece right after its frame's hash check.
import { native } from './binding.js';
import type { NativePass, PiecePass } from './csv.js';
import { fsError } from './fs-error.js';

/** See `readShardsFramesPassAsync`. */
export type ReadShardsFramesPass = (
  paths: string[],
  positions: number[],
  stride: number,
  outs: Buffer[],
  key: Uint8Array,
  pass: PiecePass,
  pieces: number[],
) => Promise<{ bad: number[]; passed: Buffer | null }>;

const kernel = (
  native as unknown as {
    readShardsFramesPassAsync?: (
      paths: string[],
      positions: number[],
      stride: number,
      outs: Buffer[],
      key: Uint8Array,
      pass: NativePass,
      pieces: number[],
    ) => Promise<{ bad: number[]; passed?: Buffer | null }>;
  }
).readShardsFramesPassAsync;

/**
 * `readShardsFramesAsync` (always checking) with `pass` run in the same pool task on `pieces`: triples (index into
 * `outs`, offset, length), each inside one frame's shard, in the order their bytes follow each other in the
 * object. When `pass` was armed at the call and every frame passed, `passed` is the pieces' bytes through it,
 * joined in that order (the CSV line test: the complete lines inside a piece it certainly rejects left out; a
 * piece's first and last line go through whole); null otherwise. Errors as `readShardsFramesAsync`'s; pieces
 * outside a frame's shard are refused. Undefined when the loaded addon predates it.
 */
export const readShardsFramesPassAsync: ReadShardsFramesPass | undefined =
  kernel &&
  ((paths, positions, stride, outs, key, pass, pieces) =>
    kernel(paths, positions, stride, outs, key, pass.native, pieces).then(
      (r) => ({ bad: r.bad, passed: r.passed ?? null }),
      (e: unknown) => {
        throw fsError(e, paths.join(', '));
      },
    ));
