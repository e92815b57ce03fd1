// permessage-deflate (RFC 7692): the negotiated parameters of a 101 response, and the inflater on
// the §7.2.3 examples, with and without context takeover, and on a deflate bomb.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CloseCode, MessageInflater, parseNegotiatedExtensions, type MessageInflaterOptions } from '../../../src/pipeline/websocket/index.js';
import { deflateSender, hex } from './frame-helpers.js';

describe('parseNegotiatedExtensions', () => {
  it('reads permessage-deflate and its parameters (RFC 7692 §7.1)', () => {
    expect(parseNegotiatedExtensions(undefined)).toEqual({ deflate: undefined, unsupported: [] });
    expect(parseNegotiatedExtensions('permessage-deflate').deflate).toEqual({ serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
    expect(parseNegotiatedExtensions('Permessage-Deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits="9"')).toEqual({
      deflate: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9 },
      unsupported: [],
    });
  });

  it('reports what it cannot read, so that the caller refuses to inspect', () => {
    for (const header of [
      'permessage-deflate; server_max_window_bits=7',
      'permessage-deflate; server_max_window_bits=16',
      'permessage-deflate; server_max_window_bits=010',
      'permessage-deflate; client_max_window_bits',
      'permessage-deflate; server_no_context_takeover=1',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      'permessage-deflate; x_unknown',
      'permessage-deflate; server_max_window_bits="1 0"',
    ]) {
      const negotiated = parseNegotiatedExtensions(header);
      expect(negotiated.deflate, header).toBeUndefined();
      expect(negotiated.unsupported, header).toHaveLength(1);
    }
    expect(parseNegotiatedExtensions('x-webkit-deflate-frame')).toEqual({ deflate: undefined, unsupported: ['x-webkit-deflate-frame'] });
    const two = parseNegotiatedExtensions('permessage-deflate, permessage-deflate; client_no_context_takeover');
    expect(two.deflate).toBeDefined();
    expect(two.unsupported).toHaveLength(1);
    expect(parseNegotiatedExtensions('permessage-deflate, foo; bar="a,b"').unsupported).toEqual(['foo']);
  });
});

const options = (over: Partial<MessageInflaterOptions> = {}): MessageInflaterOptions => ({ noContextTakeover: false, maxMessageBytes: 1 << 20, overflow: 'stop', ...over });

async function inflate(inflater: MessageInflater, ...pieces: Buffer[]): Promise<string | undefined> {
  for (const piece of pieces) await inflater.write(piece);
  return (await inflater.end()).payload?.toString();
}

describe('MessageInflater: RFC 7692 §7.2.3 examples', () => {
  it('"Hello" compressed, in one frame and in two fragments (§7.2.3.1)', async () => {
    const inflater = new MessageInflater(options({ noContextTakeover: true }));
    expect(await inflate(inflater, hex('f2 48 cd c9 c9 07 00'))).toBe('Hello');
    expect(await inflate(inflater, hex('f2 48 cd'), hex('c9 c9 07 00'))).toBe('Hello');
    inflater.close();
  });

  it('the same message twice sharing the LZ77 window (§7.2.3.2): context takeover', async () => {
    const inflater = new MessageInflater(options());
    expect(await inflate(inflater, hex('f2 48 cd c9 c9 07 00'))).toBe('Hello');
    expect(await inflate(inflater, hex('f2 00 11 00 00'))).toBe('Hello');
    inflater.close();
  });

  it('without context takeover the window is reset: the second form refers to nothing and fails with 1007', async () => {
    const inflater = new MessageInflater(options({ noContextTakeover: true }));
    expect(await inflate(inflater, hex('f2 48 cd c9 c9 07 00'))).toBe('Hello');
    const err = await inflate(inflater, hex('f2 00 11 00 00')).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'WebSocketProtocolError', closeCode: CloseCode.invalidData });
    // and it stays failed
    await expect(inflater.write(hex('f2 48 cd c9 c9 07 00'))).rejects.toMatchObject({ closeCode: CloseCode.invalidData });
  });

  it('a stored (uncompressed) block (§7.2.3.3), BFINAL set (§7.2.3.4) then a new stream, two blocks in one message (§7.2.3.5)', async () => {
    const inflater = new MessageInflater(options());
    expect(await inflate(inflater, hex('00 05 00 fa ff 48 65 6c 6c 6f 00'))).toBe('Hello');
    expect(await inflate(inflater, hex('f3 48 cd c9 c9 07 00 00'))).toBe('Hello');
    expect(await inflate(inflater, hex('f2 48 cd c9 c9 07 00'))).toBe('Hello');
    expect(await inflate(inflater, hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00'))).toBe('Hello');
    inflater.close();
  });

  it('refuses data hidden after a BFINAL block (endpoints disagree on it) with 1007', async () => {
    const hidden = Buffer.concat([hex('f3 48 cd c9 c9 07 00'), zlib.deflateRawSync(Buffer.from('4111 1111 1111 1111'))]);
    const inflater = new MessageInflater(options());
    await expect(inflate(inflater, hidden)).rejects.toMatchObject({ closeCode: CloseCode.invalidData });
    const fragmented = new MessageInflater(options());
    await expect(inflate(fragmented, hex('f3 48 cd c9 c9 07 00'), hex('f3 48 cd c9 c9 07 00'))).rejects.toMatchObject({ closeCode: CloseCode.invalidData });
  });

  it('follows a real sender across many messages, with and without context takeover', async () => {
    for (const noContextTakeover of [false, true]) {
      const sender = deflateSender(noContextTakeover);
      const inflater = new MessageInflater(options({ noContextTakeover }));
      for (let i = 0; i < 20; i++) {
        const text = `message ${i} `.repeat(50 + i);
        const compressed = await sender.compress(Buffer.from(text));
        expect(await inflate(inflater, compressed.subarray(0, 7), compressed.subarray(7))).toBe(text);
      }
      sender.close();
      inflater.close();
    }
  });
});

describe('MessageInflater: a decompression bomb', () => {
  const bomb = zlib.deflateRawSync(Buffer.alloc(64 << 20), { level: 9 }); // 64 MiB of zeros in ~64 KiB

  it("'stop': collects nothing past maxMessageBytes and stops inflating at once", async () => {
    const inflater = new MessageInflater(options({ maxMessageBytes: 1 << 20, overflow: 'stop' }));
    await inflater.write(bomb);
    expect(inflater.overflowed).toBe(true);
    const result = await inflater.end();
    expect(result.payload).toBeUndefined();
    expect(result.sizeBytes).toBeGreaterThan(1 << 20);
    expect(result.sizeBytes).toBeLessThan(4 << 20);
  });

  it("'discard': inflates it all without keeping it, and the window stays in sync for the next message", async () => {
    const sender = deflateSender();
    const inflater = new MessageInflater(options({ maxMessageBytes: 1 << 20, overflow: 'discard' }));
    const big = await sender.compress(Buffer.alloc(16 << 20, 'a'));
    for (let i = 0; i < big.length; i += 4096) await inflater.write(big.subarray(i, i + 4096));
    const first = await inflater.end();
    expect(first).toEqual({ payload: undefined, sizeBytes: 16 << 20 });
    // refers back into the window of the first message
    const next = await sender.compress(Buffer.from('a'.repeat(300) + ' 4111 1111 1111 1111'));
    expect(next.length).toBeLessThan(60);
    expect(await inflate(inflater, next)).toBe('a'.repeat(300) + ' 4111 1111 1111 1111');
    sender.close();
    inflater.close();
  });

  it('close() settles a write in progress', async () => {
    const inflater = new MessageInflater(options({ overflow: 'discard' }));
    const pending = inflater.write(bomb);
    inflater.close();
    await expect(pending).resolves.toBeUndefined();
  });
});
