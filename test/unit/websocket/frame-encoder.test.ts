// Frames the proxy writes: the §5.7 examples reproduced byte for byte, Close frames with a code and
// a reason cut to 123 bytes at a character boundary, a fresh masking key per frame towards the server.
import { describe, expect, it } from 'vitest';
import { encodeCloseFrame, encodeFrame, Opcode, parseClosePayload } from '../../../src/pipeline/websocket/index.js';
import { decoder, feed, hex } from './frame-helpers.js';

describe('encodeFrame', () => {
  it('reproduces the RFC 6455 §5.7 examples', () => {
    const hello = Buffer.from('Hello');
    const key = hex('37 fa 21 3d');
    expect(encodeFrame({ opcode: Opcode.text, payload: hello }).toString('hex')).toBe('810548656c6c6f');
    expect(encodeFrame({ opcode: Opcode.text, payload: hello, mask: key }).toString('hex')).toBe('818537fa213d7f9f4d5158');
    expect(encodeFrame({ opcode: Opcode.text, payload: Buffer.from('Hel'), fin: false }).toString('hex')).toBe('010348656c');
    expect(encodeFrame({ opcode: Opcode.continuation, payload: Buffer.from('lo') }).toString('hex')).toBe('80026c6f');
    expect(encodeFrame({ opcode: Opcode.pong, payload: hello, mask: key }).toString('hex')).toBe('8a8537fa213d7f9f4d5158');
    expect(encodeFrame({ opcode: Opcode.binary, payload: Buffer.alloc(256) }).subarray(0, 4).toString('hex')).toBe('827e0100');
    expect(encodeFrame({ opcode: Opcode.binary, payload: Buffer.alloc(65_536) }).subarray(0, 10).toString('hex')).toBe('827f0000000000010000');
  });

  it('masks with a fresh random key each time (towards the server)', () => {
    const a = encodeFrame({ opcode: Opcode.text, payload: Buffer.from('same'), mask: true });
    const b = encodeFrame({ opcode: Opcode.text, payload: Buffer.from('same'), mask: true });
    expect(a[1]! & 0x80).toBe(0x80);
    expect(a.subarray(2, 6).equals(b.subarray(2, 6))).toBe(false);
    expect(feed(decoder({ from: 'client' }), Buffer.concat([a, b])).frames.map((f) => f.payload.toString())).toEqual(['same', 'same']);
  });

  it('refuses what cannot be a frame (our defect: TypeError)', () => {
    expect(() => encodeFrame({ opcode: Opcode.ping, payload: Buffer.alloc(126) })).toThrow(TypeError);
    expect(() => encodeFrame({ opcode: Opcode.close, fin: false })).toThrow(TypeError);
    expect(() => encodeFrame({ opcode: 16 })).toThrow(TypeError);
    expect(() => encodeFrame({ opcode: Opcode.text, mask: Buffer.alloc(3) })).toThrow(TypeError);
    expect(() => encodeCloseFrame(999, '', false)).toThrow(TypeError);
  });
});

describe('encodeCloseFrame', () => {
  it('carries the code and the reason, unmasked towards the client, masked towards the server', () => {
    const toClient = encodeCloseFrame(1008, 'policy violation', false);
    expect(toClient.subarray(0, 4).toString('hex')).toBe('881203f0');
    const [frame] = feed(decoder({ from: 'client' }), encodeCloseFrame(1008, 'policy violation', true)).frames;
    expect(frame!.masked).toBe(true);
    expect(parseClosePayload(frame!.payload)).toEqual({ code: 1008, reason: 'policy violation' });
  });

  it('cuts a long reason to 123 bytes without splitting a UTF-8 character', () => {
    const frame = encodeCloseFrame(1011, 'é'.repeat(100), false);
    expect(frame.length).toBeLessThanOrEqual(2 + 125);
    const body = parseClosePayload(frame.subarray(2))!;
    expect(body.reason).toBe('é'.repeat(61));
  });

  it('parseClosePayload: empty body is 1005 (no status), one byte is invalid', () => {
    expect(parseClosePayload(Buffer.alloc(0))).toEqual({ code: 1005, reason: '' });
    expect(parseClosePayload(Buffer.from([3]))).toBeUndefined();
  });
});
