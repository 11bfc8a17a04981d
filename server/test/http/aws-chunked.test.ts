// The aws-chunked framing rules one by one (AWS: "Signature Calculations for the Authorization Header:
// Transferring Payload in Multiple Chunks" and "... including trailing headers"): chunk size lines, the CRLF
// after each chunk's data, trailer lines, the bounds that keep a client from holding memory, what may follow
// the end. Signatures against AWS's published examples: auth-v4.test.ts.
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { AwsChunkedDecoder, Sha256Verifier } from '../../src/http/auth/aws-chunked.js';
import { S3Error } from '../../src/errors.js';
import type { ChunkChain } from '../../src/http/auth/sigv4.js';

/** Decodes `wire` fed `size` bytes at a time: the data and trailers, or the S3 error code. */
async function decode(wire: string | Buffer, opts: { decodedLength?: number; size?: number; chain?: ChunkChain } = {}) {
  const bytes = Buffer.from(wire);
  const parts: Buffer[] = [];
  const size = opts.size ?? bytes.length;
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  const dec = new AwsChunkedDecoder({ decodedLength: opts.decodedLength, chain: opts.chain });
  try {
    const data = await buffer(Readable.from(parts).pipe(dec));
    return { data: data.toString('latin1'), trailers: Object.fromEntries(dec.trailers) };
  } catch (e) {
    return { code: e instanceof S3Error ? e.code : String(e) };
  }
}

describe('aws-chunked framing', () => {
  it('sizes are hex, either case, up to 16 digits; chunk extensions other than the signature are ignored', async () => {
    const ten = 'abcdefghij';
    for (const size of ['a', 'A', '0a', '000000000000000a']) {
      expect(await decode(`${size}\r\n${ten}\r\n0\r\n\r\n`), size).toEqual({ data: ten, trailers: {} });
    }
    expect(await decode(`a;ext=1\r\n${ten}\r\n0;x\r\n\r\n`)).toEqual({ data: ten, trailers: {} });
    for (const bad of ['0000000000000000a', '', ' a', 'a ', 'g', '-1', '0x1']) {
      expect(await decode(`${bad}\r\n${ten}\r\n0\r\n\r\n`), JSON.stringify(bad)).toEqual({ code: 'IncompleteBody' });
    }
  });

  it('an empty body is the zero chunk and the empty line', async () => {
    expect(await decode('0\r\n\r\n', { decodedLength: 0 })).toEqual({ data: '', trailers: {} });
  });

  it("each chunk's data ends with CRLF exactly where its size says", async () => {
    expect(await decode('3\r\nabc\r\n0\r\n\r\n')).toEqual({ data: 'abc', trailers: {} });
    expect(await decode('3\r\nabcd\r\n0\r\n\r\n')).toEqual({ code: 'IncompleteBody' });
    expect(await decode('3\r\nabc\n0\r\n\r\n')).toEqual({ code: 'IncompleteBody' });
    expect(await decode('3\nabc\r\n0\r\n\r\n')).toEqual({ code: 'IncompleteBody' });
  });

  it('x-amz-decoded-content-length must match the data, neither more nor less', async () => {
    const wire = '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
    expect(await decode(wire, { decodedLength: 5 })).toEqual({ data: 'abcde', trailers: {} });
    expect(await decode(wire, { decodedLength: 4 })).toEqual({ code: 'IncompleteBody' });
    expect(await decode(wire, { decodedLength: 6 })).toEqual({ code: 'IncompleteBody' });
  });

  it('a body cut anywhere is IncompleteBody, and so are bytes after its end', async () => {
    const wire = '3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n';
    const trailerAt = wire.indexOf('x-amz');
    for (let cut = 1; cut < wire.length; cut++) {
      // After the zero chunk, a cut at the end of a line ends the trailer section (previous test).
      if (cut >= trailerAt && wire[cut - 1] === '\n') continue;
      expect(await decode(wire.slice(0, cut)), `cut at ${cut}`).toEqual({ code: 'IncompleteBody' });
    }
    expect(await decode(`${wire}3\r\nabc\r\n0\r\n\r\n`)).toEqual({ code: 'IncompleteBody' });
    expect(await decode(`${wire}x`, { size: 1 })).toEqual({ code: 'IncompleteBody' });
  });

  it('the trailer section may end without its final empty line (the last trailer line ends it)', async () => {
    expect(await decode('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n')).toEqual({
      data: 'abc',
      trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' },
    });
  });

  it('trailer names are lower-cased and trimmed, values trimmed; a line without a name is refused', async () => {
    const got = await decode('0\r\n X-Amz-Checksum-CRC32 :  AAAAAA==  \r\nx-amz-meta-a:b:c\r\n\r\n', { size: 3 });
    expect(got).toEqual({ data: '', trailers: { 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-meta-a': 'b:c' } });
    for (const bad of ['no-colon', ':value']) {
      expect(await decode(`0\r\n${bad}\r\n\r\n`), bad).toEqual({ code: 'MalformedTrailerError' });
    }
  });

  it('framing lines are bounded: 4 KiB with the line end', async () => {
    expect(await decode(`${'0'.repeat(5000)}`, { size: 1000 })).toEqual({ code: 'IncompleteBody' });
    // 4096 bytes with its CRLF pass, 4097 do not.
    expect(await decode(`0;${'x'.repeat(4092)}\r\n\r\n`)).toEqual({ data: '', trailers: {} });
    expect(await decode(`0;${'x'.repeat(4093)}\r\n\r\n`)).toEqual({ code: 'IncompleteBody' });
    expect(await decode(`0\r\nx-amz-meta-a:${'x'.repeat(4082)}\r\n\r\n`)).toEqual({ code: 'IncompleteBody' });
  });

  it('the trailer section is bounded (16 KiB): many short trailer lines are refused', async () => {
    const line = (i: number) => `x-amz-meta-t${i}:${'v'.repeat(100)}\r\n`;
    const lines = (n: number) => Array.from({ length: n }, (_, i) => line(i)).join('');
    // About 12 KiB of trailers passes, about 20 KiB does not, fed in one piece or line by line.
    expect(await decode(`0\r\n${lines(100)}\r\n`)).toMatchObject({ data: '' });
    expect(await decode(`0\r\n${lines(170)}\r\n`)).toEqual({ code: 'MalformedTrailerError' });
    expect(await decode(`0\r\n${lines(170)}\r\n`, { size: 64 })).toEqual({ code: 'MalformedTrailerError' });
  });

  it('the trailer section may be 16 KiB exactly, counting from after the zero chunk to its final CRLF', async () => {
    // Lines of 100 bytes with their CRLF, the last one shorter, so the section totals `total` bytes.
    const section = (total: number) => {
      let text = '';
      for (let i = 0; text.length < total - 2; i++) {
        const room = Math.min(100, total - 2 - text.length);
        const name = `x-amz-meta-t${String(i).padStart(3, '0')}:`;
        text += `${name.padEnd(room - 2, 'v').slice(0, room - 2)}\r\n`;
      }
      return `${text}\r\n`;
    };
    expect(section(16 * 1024)).toHaveLength(16 * 1024);
    expect(await decode(`0\r\n${section(16 * 1024)}`)).toMatchObject({ data: '' });
    expect(await decode(`0\r\n${section(16 * 1024 + 1)}`)).toEqual({ code: 'MalformedTrailerError' });
  });

  it("the chunks' framing lines do not count towards the trailer bound", async () => {
    // 5,000 one-byte chunks: 25,000 bytes of size lines and CRLFs before the trailer section.
    const wire = `${'1\r\nx\r\n'.repeat(5000)}0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n`;
    const got = await decode(wire, { decodedLength: 5000 });
    expect(got).toEqual({ data: 'x'.repeat(5000), trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
  });

  it('nothing may follow the empty line that ends a body without trailers, not even a trailer', async () => {
    expect(await decode('0\r\n\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n')).toEqual({ code: 'IncompleteBody' });
  });
});

// Signed chunks and trailers (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]): each signature chains from the
// previous one, starting at the request's seed signature. The signer below follows AWS's definition; its
// agreement with AWS's published example is in auth-v4.test.ts.
describe('aws-chunked signatures', () => {
  const EMPTY = createHash('sha256').update('').digest('hex');
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const chain: ChunkChain = {
    signingKey: createHash('sha256').update('signing key of the tests').digest(),
    amzDate: '20130524T000000Z',
    scope: '20130524/us-east-1/s3/aws4_request',
    seedSignature: 'a'.repeat(64),
  };
  const sign = (kind: 'PAYLOAD' | 'TRAILER', previous: string, hash: string) => {
    const extra = kind === 'PAYLOAD' ? `${EMPTY}\n` : '';
    const sts = `AWS4-HMAC-SHA256-${kind}\n${chain.amzDate}\n${chain.scope}\n${previous}\n${extra}${hash}`;
    return createHmac('sha256', chain.signingKey).update(sts).digest('hex');
  };
  /** A signed body of `chunks`, then trailers (signed over `signedTrailers` when given, else over `trailers`). */
  const signed = (chunks: string[], trailers?: [string, string][], signedTrailers = trailers) => {
    let previous = chain.seedSignature;
    let wire = '';
    for (const data of [...chunks, '']) {
      previous = sign('PAYLOAD', previous, sha(data));
      wire += `${data.length.toString(16)};chunk-signature=${previous}\r\n${data}${data ? '\r\n' : ''}`;
    }
    if (!trailers) return `${wire}\r\n`;
    const canonical = (signedTrailers ?? []).map(([k, v]) => `${k}:${v}\n`).join('');
    const lines = trailers.map(([k, v]) => `${k}:${v}\r\n`).join('');
    return `${wire}${lines}x-amz-trailer-signature:${sign('TRAILER', previous, sha(canonical))}\r\n\r\n`;
  };

  it('verifies a chain of chunks; a changed byte, order or signature fails', async () => {
    expect(await decode(signed(['hello', 'world']), { chain })).toEqual({ data: 'helloworld', trailers: {} });
    expect(await decode(signed(['hello', 'world']).replace('world', 'World'), { chain })).toEqual({
      code: 'SignatureDoesNotMatch',
    });
    const [first, second] = [signed(['hello']), signed(['world'])];
    expect(await decode(second.slice(0, second.indexOf('0;')) + first.slice(first.indexOf('0;')), { chain })).toEqual({
      code: 'SignatureDoesNotMatch',
    });
  });

  it('the signature is found among other chunk extensions', async () => {
    const wire = signed(['hello']).replaceAll(';chunk-signature=', ';ext=1;chunk-signature=');
    expect(await decode(wire, { chain })).toEqual({ data: 'hello', trailers: {} });
  });

  it('a chunk without its signature fails before any of its bytes is passed on', async () => {
    expect(await decode(signed(['hello']).replace(/^5;chunk-signature=[0-9a-f]+/, '5'), { chain })).toEqual({
      code: 'SignatureDoesNotMatch',
    });
    // Written by hand to see what the decoder holds for its reader right after the first bytes of data.
    const dec = new AwsChunkedDecoder({ chain });
    const failed = new Promise<unknown>((resolve) => dec.on('error', resolve));
    dec.write(Buffer.from('5\r\nhel'));
    expect(dec.read()).toBeNull();
    expect(await failed).toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('signed trailers: every trailer line is signed, in the order sent', async () => {
    const trailers: [string, string][] = [
      ['x-amz-checksum-crc32', 'AAAAAA=='],
      ['x-amz-meta-a', 'b'],
    ];
    expect(await decode(signed(['hello'], trailers), { chain })).toEqual({
      data: 'hello',
      trailers: Object.fromEntries(trailers),
    });
    for (const other of [trailers.slice(0, 1), [...trailers].reverse(), [...trailers, ['x-amz-meta-c', 'd']]]) {
      const wire = signed(['hello'], trailers, other as [string, string][]);
      expect(await decode(wire, { chain }), JSON.stringify(other)).toEqual({ code: 'SignatureDoesNotMatch' });
    }
    // Trailers without their signature are refused.
    const unsigned = signed(['hello'], trailers).replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, '');
    expect(await decode(unsigned, { chain })).toEqual({ code: 'SignatureDoesNotMatch' });
  });
});

describe('x-amz-content-sha256 of a whole body', () => {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const verify = async (body: string[], expected: string) => {
    try {
      return (
        await buffer(Readable.from(body.map((b) => Buffer.from(b))).pipe(new Sha256Verifier(expected)))
      ).toString();
    } catch (e) {
      return e instanceof S3Error ? [e.code, e.extra] : String(e);
    }
  };

  it('passes the body on when its hash is the one signed, fails at the end naming both otherwise', async () => {
    expect(await verify(['hel', 'lo'], sha('hello'))).toBe('hello');
    expect(await verify(['hel', 'lo!'], sha('hello'))).toEqual([
      'XAmzContentSHA256Mismatch',
      { ClientComputedContentSHA256: sha('hello'), S3ComputedContentSHA256: sha('hello!') },
    ]);
  });
});
