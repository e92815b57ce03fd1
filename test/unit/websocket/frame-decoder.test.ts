// RFC 6455 frame decoder, byte scripts: the §5.7 examples byte for byte at every split, each
// protocol violation with its close code (1002, 1009), bounded buffering, and streamed frames.
import { describe, expect, it } from 'vitest';
import { CloseCode, encodeFrame, Opcode } from '../../../src/pipeline/websocket/index.js';
import { decoder, feed, hex, SPLITS, whole } from './frame-helpers.js';

const HELLO = Buffer.from('Hello').toString('hex');

describe('FrameDecoder: RFC 6455 §5.7 examples', () => {
  const examples: { name: string; from: 'client' | 'server'; bytes: Buffer; frames: { fin: boolean; opcode: number; masked: boolean; payload: string }[] }[] = [
    { name: 'single-frame unmasked text', from: 'server', bytes: hex('81 05 48 65 6c 6c 6f'), frames: [{ fin: true, opcode: 1, masked: false, payload: HELLO }] },
    { name: 'single-frame masked text', from: 'client', bytes: hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'), frames: [{ fin: true, opcode: 1, masked: true, payload: HELLO }] },
    {
      name: 'fragmented unmasked text',
      from: 'server',
      bytes: hex('01 03 48 65 6c 80 02 6c 6f'),
      frames: [
        { fin: false, opcode: 1, masked: false, payload: '48656c' },
        { fin: true, opcode: 0, masked: false, payload: '6c6f' },
      ],
    },
    { name: 'unmasked ping', from: 'server', bytes: hex('89 05 48 65 6c 6c 6f'), frames: [{ fin: true, opcode: 9, masked: false, payload: HELLO }] },
    { name: 'masked pong', from: 'client', bytes: hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'), frames: [{ fin: true, opcode: 10, masked: true, payload: HELLO }] },
  ];
  for (const ex of examples) {
    it(`${ex.name}: the same frames at every split, raw bytes as received`, () => {
      for (const sizes of SPLITS) {
        const fed = feed(decoder({ from: ex.from }), ex.bytes, sizes);
        expect(fed.error).toBeUndefined();
        const frames = whole(fed.frames);
        expect(frames.map(({ fin, opcode, masked, payload }) => ({ fin, opcode, masked, payload }))).toEqual(ex.frames);
        expect(frames.map((f) => f.raw).join('')).toBe(ex.bytes.toString('hex'));
      }
    });
  }

  it('256-byte binary (16-bit length) and 64 KiB binary (64-bit length), unmasked', () => {
    const small = Buffer.alloc(256, 0x61);
    const big = Buffer.alloc(65_536, 0x62);
    const input = Buffer.concat([hex('82 7e 01 00'), small, hex('82 7f 00 00 00 00 00 01 00 00'), big]);
    for (const sizes of [[input.length], [1], [4093]]) {
      const fed = feed(decoder(), input, sizes);
      expect(fed.error).toBeUndefined();
      expect(fed.frames.map((f) => [f.opcode, f.payload.length, f.raw.length])).toEqual([
        [2, 256, 260],
        [2, 65_536, 65_546],
      ]);
      expect(fed.frames[0]!.payload.equals(small) && fed.frames[1]!.payload.equals(big)).toBe(true);
    }
  });

  it('accepts non-minimal lengths (16- and 64-bit lengths for 5 bytes)', () => {
    const fed = feed(decoder(), hex('81 7e 00 05 48 65 6c 6c 6f 81 7f 00 00 00 00 00 00 00 05 48 65 6c 6c 6f'), [1]);
    expect(fed.error).toBeUndefined();
    expect(fed.frames.map((f) => f.payload.toString())).toEqual(['Hello', 'Hello']);
  });

  it('an empty frame comes out as soon as its header is read', () => {
    const d = decoder({ from: 'client' });
    expect(d.push(hex('81 80 01 02')).frames).toEqual([]);
    const [frame] = d.push(hex('03 04')).frames;
    expect(frame).toMatchObject({ opcode: 1, fin: true, masked: true, first: true, last: true, payloadLength: 0 });
    expect(frame!.payload.length).toBe(0);
    expect(d.atFrameBoundary).toBe(true);
  });
});

describe('FrameDecoder: protocol violations', () => {
  const cases: { name: string; bytes: string; from?: 'client' | 'server'; rsv1Allowed?: boolean; code: number }[] = [
    { name: 'reserved data opcode 0x3', bytes: '83 00', code: CloseCode.protocolError },
    { name: 'reserved control opcode 0xB', bytes: '8b 00', code: CloseCode.protocolError },
    { name: 'reserved opcode 0xF', bytes: '8f 00', code: CloseCode.protocolError },
    { name: 'RSV1 without permessage-deflate', bytes: 'c1 00', code: CloseCode.protocolError },
    { name: 'RSV2', bytes: 'a1 00', rsv1Allowed: true, code: CloseCode.protocolError },
    { name: 'RSV3', bytes: '91 00', rsv1Allowed: true, code: CloseCode.protocolError },
    { name: 'RSV1 on a control frame', bytes: 'c9 00', rsv1Allowed: true, code: CloseCode.protocolError },
    { name: 'RSV1 on a continuation frame', bytes: 'c0 00', rsv1Allowed: true, code: CloseCode.protocolError },
    { name: 'control frame of 126 bytes', bytes: '89 7e 00 7e', code: CloseCode.protocolError },
    { name: 'fragmented control frame', bytes: '09 00', code: CloseCode.protocolError },
    { name: 'fragmented close', bytes: '08 00', code: CloseCode.protocolError },
    { name: '64-bit length with the top bit set', bytes: '82 7f 80 00 00 00 00 00 00 01', code: CloseCode.protocolError },
    { name: 'unmasked frame from a client', bytes: '81 00', from: 'client', code: CloseCode.protocolError },
    { name: 'masked frame from a server', bytes: '81 80 00 00 00 00', from: 'server', code: CloseCode.protocolError },
    { name: 'a frame over the limit (1 MiB + 1)', bytes: '82 7f 00 00 00 00 00 10 00 01', code: CloseCode.messageTooBig },
    { name: 'a frame declaring 2^62 bytes', bytes: '82 7f 40 00 00 00 00 00 00 00', code: CloseCode.messageTooBig },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.code}, at every split`, () => {
      for (const sizes of SPLITS) {
        const fed = feed(decoder({ from: c.from ?? 'server', rsv1Allowed: c.rsv1Allowed ?? false }), hex(c.bytes), sizes);
        expect(fed.frames).toEqual([]);
        expect(fed.error?.closeCode).toBe(c.code);
      }
    });
  }

  it('refuses an oversize frame at its header, before buffering a byte of it', () => {
    const d = decoder({ maxFramePayloadBytes: 1000 });
    const step = d.push(Buffer.concat([hex('82 7e 03 e9'), Buffer.alloc(500)]));
    expect(step.error?.closeCode).toBe(CloseCode.messageTooBig);
    expect(d.bufferedBytes).toBe(0);
  });

  it('a frame of exactly the limit passes; control frames are not subject to the data limit', () => {
    const fed = feed(decoder({ maxFramePayloadBytes: 10 }), Buffer.concat([encodeFrame({ opcode: Opcode.binary, payload: Buffer.alloc(10) }), encodeFrame({ opcode: Opcode.ping, payload: Buffer.alloc(125) })]), [3]);
    expect(fed.error).toBeUndefined();
    expect(fed.frames.map((f) => f.payload.length)).toEqual([10, 125]);
  });

  it('returns the frames before a violation, then the same error for every later push', () => {
    const d = decoder();
    const step = d.push(hex('81 02 68 69 83 00 81 02 68 69'));
    expect(step.frames.map((f) => f.payload.toString())).toEqual(['hi']);
    expect(step.error?.closeCode).toBe(CloseCode.protocolError);
    const again = d.push(hex('81 02 68 69'));
    expect(again.frames).toEqual([]);
    expect(again.error).toBe(step.error);
  });

  it('holds at most one header and the payload of the frame it is in', () => {
    const input = Buffer.concat(Array.from({ length: 20 }, (_, i) => encodeFrame({ opcode: Opcode.binary, payload: Buffer.alloc(i * 37, i), mask: true })));
    const fed = feed(decoder({ from: 'client' }), input, [1]);
    expect(fed.error).toBeUndefined();
    expect(fed.frames).toHaveLength(20);
    expect(fed.maxBuffered).toBeLessThanOrEqual(14 + 19 * 37);
  });
});

describe('FrameDecoder: streamed frames (oversizeFrames: stream)', () => {
  it('hands out a frame over the limit piece by piece, unmasked, holding nothing', () => {
    const payload = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    const input = Buffer.concat([encodeFrame({ opcode: Opcode.binary, payload, mask: hex('01 02 03 04') }), encodeFrame({ opcode: Opcode.text, payload: Buffer.from('small'), mask: true })]);
    for (const sizes of [[input.length], [1], [999], [2, 3]]) {
      const d = decoder({ from: 'client', maxFramePayloadBytes: 100, oversizeFrames: 'stream' });
      const fed = feed(d, input, sizes);
      expect(fed.error).toBeUndefined();
      expect(fed.maxBuffered).toBeLessThanOrEqual(14 + 5);
      const big = fed.frames.slice(0, -1);
      expect(big[0]).toMatchObject({ first: true, offset: 0, payloadLength: 5000, last: false });
      expect(big[0]!.payload.length).toBe(0);
      expect(big.slice(1).every((f) => !f.first)).toBe(true);
      expect(big.at(-1)!.last).toBe(true);
      expect(Buffer.concat(big.map((f) => f.payload)).equals(payload)).toBe(true);
      expect(Buffer.concat(fed.frames.map((f) => f.raw)).equals(input)).toBe(true);
      expect(fed.frames.at(-1)).toMatchObject({ first: true, last: true, opcode: Opcode.text });
    }
  });
});
