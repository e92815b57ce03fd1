// ResponseReader hands a 200's body on as views of the socket's reads where a piece is most of its
// read (no copy per chunk), and copies a small piece so that tiny chunks cannot pin whole reads.
import { describe, expect, it } from 'vitest';
import type { IcapConnection } from '../../../src/icap/connection.js';
import { ResponseReader } from '../../../src/icap/response-reader.js';
import { IcapResponseDecoder } from '../../../src/icap/codec/index.js';

const HTTP = 'POST /u HTTP/1.1\r\nHost: x.test\r\n\r\n';
const head = (bodyLength: number) =>
  Buffer.from(`ICAP/1.0 200 OK\r\nISTag: "t"\r\nEncapsulated: req-hdr=0, req-body=${HTTP.length}\r\n\r\n${HTTP}${bodyLength.toString(16)}\r\n`);

function reader(): { reader: ResponseReader; feed: (bytes: Buffer) => void } {
  const conn = { pause: () => undefined, resume: () => undefined } as unknown as IcapConnection;
  const r = new ResponseReader(conn, () => undefined);
  const decoder = new IcapResponseDecoder();
  return { reader: r, feed: (bytes) => decoder.push(bytes).forEach((e) => r.onEvent(e)) };
}

describe('ResponseReader body chunks', () => {
  it('a body that is most of its read arrives as a view of that read; a small piece as a copy', async () => {
    const { reader: r, feed } = reader();
    const data = Buffer.alloc(16 * 1024, 0x61);
    feed(head(data.length));
    const answer = await r.answer();
    const chunks: Buffer[] = [];
    answer.body!.on('data', (c: Buffer) => chunks.push(c));
    const read = Buffer.concat([data, Buffer.from('\r\n2\r\nzz\r\n0\r\n\r\n')]);
    feed(read);
    await new Promise((res) => answer.body!.once('end', res));
    expect(chunks).toHaveLength(2);
    expect(chunks[0]!.buffer).toBe(read.buffer); // the view: no copy of 16 KiB
    expect(chunks[0]!.equals(data)).toBe(true);
    expect(chunks[1]!.buffer).not.toBe(read.buffer); // 2 bytes of a 16 KiB read: copied
    expect(chunks[1]!.toString()).toBe('zz');
  });
});
