// Bytes -> JS strings for the text scanners. Pure-ASCII chunks (the common case, checked by the
// SIMD-backed buffer.isAscii) are decoded as latin1, about twice as fast as UTF-8 decoding; other chunks
// go through a StringDecoder, which carries a character split across chunks over to the next one.

import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';

/**
 * Text is decoded and split in pieces of this size: V8 allocates strings this small in the young
 * generation, several times faster than the large-object space a 1 MB string goes to.
 */
export const TEXT_PIECE = 64 * 1024;

export class Utf8Text {
  private readonly decoder = new StringDecoder('utf8');
  /** The decoder may hold the first bytes of a character cut by the chunk end. */
  private dirty = false;
  private started = false;

  /** Text of the next chunk; a UTF-8 byte order mark at the very start of the input is dropped. */
  write(chunk: Buffer): string {
    if (!this.started) {
      // Until the first character is out (a BOM may be cut across chunks).
      const text = this.decode(chunk);
      if (text === '') return '';
      this.started = true;
      return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    }
    return this.decode(chunk);
  }

  private decode(chunk: Buffer): string {
    if (isAscii(chunk)) {
      const text = chunk.toString('latin1');
      if (!this.dirty) return text;
      // An ASCII byte cannot continue a multi-byte character: flush what the decoder holds (as U+FFFD).
      this.dirty = false;
      return this.decoder.end() + text;
    }
    this.dirty = true;
    return this.decoder.write(chunk);
  }

  end(): string {
    this.dirty = false;
    return this.decoder.end();
  }
}
