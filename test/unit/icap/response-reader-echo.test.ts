// A 200 whose body may echo the body sent (held whole in RAM): the reader compares it as it
// arrives. An echo byte for byte, however either side is cut, is answered at its last chunk as
// `echo` with no stream; any difference (a byte at any offset, a longer or a shorter body) yields
// exactly the answer's bytes as a body; a connection lost while matching fails the answer.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/core/errors.js';
import type { IcapConnection } from '../../../src/icap/connection.js';
import { ResponseReader } from '../../../src/icap/response-reader.js';
import { IcapResponseDecoder } from '../../../src/icap/codec/index.js';

const HTTP = 'POST /u HTTP/1.1\r\nHost: x.test\r\n\r\n';
const HEAD = Buffer.from(`ICAP/1.0 200 OK\r\nISTag: "t"\r\nEncapsulated: req-hdr=0, req-body=${HTTP.length}\r\n\r\n${HTTP}`);

function pieces(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(Buffer.from(data.subarray(i, i + size)));
  return out;
}

/** The answer's body in chunks of `chunk` bytes, then the last chunk: the wire bytes after the head. */
function chunkedBody(body: Buffer, chunk: number): Buffer {
  return Buffer.concat([...pieces(body, chunk).flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]), Buffer.from('0\r\n\r\n')]);
}

function reader(original: readonly Buffer[]) {
  let paused = 0;
  const conn = { pause: () => paused++, resume: () => undefined } as unknown as IcapConnection;
  let ended = 0;
  const r = new ResponseReader(conn, () => ended++, original);
  const decoder = new IcapResponseDecoder();
  return {
    reader: r,
    ended: () => ended,
    paused: () => paused,
    /** the wire bytes, cut into reads of `read` bytes */
    feed: (bytes: Buffer, read = bytes.length) => pieces(bytes, read).forEach((p) => decoder.push(p).forEach((e) => r.onEvent(e))),
  };
}

async function bodyOf(answer: { body: NodeJS.ReadableStream | null }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of answer.body!) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('ResponseReader: an echo of the body sent', () => {
  const data = randomBytes(16 * 1024);

  it.each([
    [1000, 7, 50],
    [7, 1000, 4096],
    [16 * 1024, 333, 1],
    [4096, 4096, 100_000],
  ])('an echo cut differently (original in %i-byte chunks, answer in %i-byte chunks, %i-byte reads) is an echo with no body', async (origCut, answerCut, read) => {
    const r = reader(pieces(data, origCut));
    let settled = false;
    const answer = r.reader.answer().then((a) => ((settled = true), a));
    r.feed(HEAD);
    await Promise.resolve();
    expect(settled).toBe(false); // a 200's answer waits for its body's verdict
    r.feed(chunkedBody(data, answerCut), read);
    const a = await answer;
    expect(a).toMatchObject({ echo: true, body: null });
    expect(a.head.status).toBe(200);
    expect(a.http[0]!.method).toBe('POST');
    expect(r.ended()).toBe(1);
    expect(r.reader.ended).toBe(true);
  });

  it.each([0, 1, 999, 1000, 4095, 16 * 1024 - 1])('a byte changed at offset %i yields exactly the answer as a body', async (at) => {
    const r = reader(pieces(data, 1000));
    const changed = Buffer.from(data);
    changed[at] = changed[at]! ^ 0xff;
    r.feed(Buffer.concat([HEAD, chunkedBody(changed, 777)]), 1500);
    const a = await r.reader.answer();
    expect(a.echo).toBe(false);
    expect((await bodyOf(a)).equals(changed)).toBe(true);
  });

  it('a longer body (the original and a tail) and a shorter one (a prefix) are bodies of their own', async () => {
    const longer = Buffer.concat([data, Buffer.from('tail')]);
    const r1 = reader(pieces(data, 1000));
    r1.feed(Buffer.concat([HEAD, chunkedBody(longer, 4096)]));
    const a1 = await r1.reader.answer();
    expect(a1.echo).toBe(false);
    expect((await bodyOf(a1)).equals(longer)).toBe(true);

    const shorter = data.subarray(0, 10_000);
    const r2 = reader(pieces(data, 1000));
    r2.feed(Buffer.concat([HEAD, chunkedBody(shorter, 4096)]));
    const a2 = await r2.reader.answer();
    expect(a2.echo).toBe(false);
    expect((await bodyOf(a2)).equals(shorter)).toBe(true);
  });

  it('an empty answer to an empty original is an echo; to a non-empty original it is an empty body', async () => {
    const r1 = reader([]);
    r1.feed(Buffer.concat([HEAD, Buffer.from('0\r\n\r\n')]));
    expect(await r1.reader.answer()).toMatchObject({ echo: true, body: null });

    const r2 = reader(pieces(data, 1000));
    r2.feed(Buffer.concat([HEAD, Buffer.from('0\r\n\r\n')]));
    const a2 = await r2.reader.answer();
    expect(a2.echo).toBe(false);
    expect((await bodyOf(a2)).length).toBe(0);
  });

  it('a large difference late in the body pauses the connection when its stream is full, and keeps every byte', async () => {
    const big = randomBytes(256 * 1024);
    const changed = Buffer.from(big);
    changed[200 * 1024] = changed[200 * 1024]! ^ 1;
    const r = reader(pieces(big, 64 * 1024));
    r.feed(Buffer.concat([HEAD, chunkedBody(changed, 16 * 1024)]));
    const a = await r.reader.answer();
    expect(r.paused()).toBeGreaterThan(0);
    expect((await bodyOf(a)).equals(changed)).toBe(true);
  });

  it('a connection lost while matching fails the answer', async () => {
    const r = reader(pieces(data, 1000));
    r.feed(Buffer.concat([HEAD, chunkedBody(data.subarray(0, 5000), 1000).subarray(0, -5)]));
    r.reader.onError(new ProxyError('ICAP_READ_FAILED', 'server went away'));
    await expect(r.reader.answer()).rejects.toMatchObject({ code: 'ICAP_READ_FAILED' });
    expect(r.ended()).toBe(0);
  });

  it('a preview still waiting hears of the final answer as soon as its head arrived', async () => {
    const r = reader(pieces(data, 1000));
    const preview = r.reader.awaitPreviewAnswer();
    r.feed(HEAD);
    expect(await preview).toBe('final');
    r.feed(chunkedBody(data, 4096));
    expect(await r.reader.answer()).toMatchObject({ echo: true });
  });

  it('without an original (a body streamed as it arrived) a 200 is answered at its head with a stream', async () => {
    let ended = 0;
    const conn = { pause: () => undefined, resume: () => undefined } as unknown as IcapConnection;
    const r = new ResponseReader(conn, () => ended++);
    const decoder = new IcapResponseDecoder();
    decoder.push(HEAD).forEach((e) => r.onEvent(e));
    const a = await r.answer();
    expect(a.echo).toBe(false);
    expect(a.body).not.toBeNull();
    decoder.push(chunkedBody(data, 4096)).forEach((e) => r.onEvent(e));
    expect((await bodyOf(a)).equals(data)).toBe(true);
    expect(ended).toBe(1);
  });
});
