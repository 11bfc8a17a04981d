// The files of an event queue (queue.ts) and their formats.
//
// - A segment, `<first>-<count>-<time>.seg` (hex; time: when its events were pushed, ms since 1970, which the
//   queue's lag is measured from): the events pushed in one turn of the event loop, sequence numbers
//   first..first+count-1, each as `<byte length>\n<bytes>\n`. Written whole under a temporary name and renamed.
//   `<first>-<count>.seg` (before the time was kept) is read too; its file's modification time stands for it.
// - An acknowledgement log, `<gen>.acks` (hex): the sequence numbers of events delivered while their segment
//   still held others, one `<16 hex digits>\n` line each, appended. A line cut short (the process killed within
//   a write) is ignored: its event goes out again.
// - `<seq>.event`: one event, raw (the format before segments): read as a segment of one.

/** A queue file's name, parsed. */
export type QueueFile =
  /** `at`: the push time in the name (ms); absent in the older names. */
  | { kind: 'segment'; first: number; count: number; legacy: boolean; at?: number }
  | { kind: 'acks'; gen: number }
  | { kind: 'tmp' };

const SEGMENT = /^([0-9a-f]{16})-([0-9a-f]{1,8})(?:-([0-9a-f]{1,12}))?\.seg$/;
const LEGACY = /^([0-9a-f]{16})\.event$/;
const ACKS = /^([0-9a-f]{16})\.acks$/;

export const hex16 = (n: number): string => n.toString(16).padStart(16, '0');
export const segmentName = (first: number, count: number, at: number): string =>
  `${hex16(first)}-${count.toString(16)}-${Math.max(0, Math.floor(at)).toString(16)}.seg`;
export const acksName = (gen: number): string => `${hex16(gen)}.acks`;

export function parseName(name: string): QueueFile | undefined {
  let m = SEGMENT.exec(name);
  if (m) {
    const count = Number.parseInt(m[2], 16);
    if (count === 0) return undefined;
    const first = Number.parseInt(m[1], 16);
    return m[3] === undefined
      ? { kind: 'segment', first, count, legacy: false }
      : { kind: 'segment', first, count, legacy: false, at: Number.parseInt(m[3], 16) };
  }
  m = LEGACY.exec(name);
  if (m) return { kind: 'segment', first: Number.parseInt(m[1], 16), count: 1, legacy: true };
  m = ACKS.exec(name);
  if (m) return { kind: 'acks', gen: Number.parseInt(m[1], 16) };
  return name.endsWith('.tmp') ? { kind: 'tmp' } : undefined;
}

/** A segment's bytes: each event as `<byte length>\n<bytes>\n`. */
export function encodeSegment(events: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of events) {
    const b = Buffer.from(e);
    parts.push(Buffer.from(`${b.length}\n`), b, NEWLINE);
  }
  return Buffer.concat(parts);
}
const NEWLINE = Buffer.from('\n');

/** The events of a segment file; throws when it is not one of `count` events (its events cannot be sent). */
export function decodeSegment(bytes: Buffer, count: number, legacy: boolean): string[] {
  if (legacy) return [bytes.toString('utf8')];
  const out: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    const nl = bytes.indexOf(0x0a, at);
    const digits = nl > at && nl - at <= 10 ? bytes.toString('latin1', at, nl) : '';
    const len = /^\d+$/.test(digits) ? Number(digits) : -1;
    const end = nl + 1 + len;
    if (len < 0 || bytes[end] !== 0x0a) throw new Error(`segment damaged at byte ${at}`);
    out.push(bytes.toString('utf8', nl + 1, end));
    at = end + 1;
  }
  if (out.length !== count) throw new Error(`segment holds ${out.length} events, its name says ${count}`);
  return out;
}

/** Acknowledgement lines for these sequence numbers. */
export const encodeAcks = (seqs: readonly number[]): Buffer => Buffer.from(seqs.map((s) => `${hex16(s)}\n`).join(''));

/** The sequence numbers of an acknowledgement log (a line cut short ignored). */
export function decodeAcks(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) if (/^[0-9a-f]{16}$/.test(line)) out.push(Number.parseInt(line, 16));
  return out;
}
