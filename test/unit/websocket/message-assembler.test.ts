// Messages from frames (RFC 6455 §5.4): fragments joined, control frames between them, RSV1 on the
// first frame marking a compressed message (RFC 7692 §6), and the sequence violations (1002).
import { describe, expect, it } from 'vitest';
import { CloseCode, encodeFrame, MessageAssembler, Opcode, type AssemblerStep } from '../../../src/pipeline/websocket/index.js';
import { decoder, feed, hex } from './frame-helpers.js';

function assemble(input: Buffer, sizes?: number[], maxFramePayloadBytes = 1 << 20): AssemblerStep[] {
  const fed = feed(decoder({ rsv1Allowed: true, maxFramePayloadBytes, oversizeFrames: 'stream' }), input, sizes);
  expect(fed.error).toBeUndefined();
  const assembler = new MessageAssembler();
  return fed.frames.map((f) => assembler.push(f));
}

/** What a receiver would see: messages joined, control frames in order. */
function summary(steps: AssemblerStep[]): string[] {
  const out: string[] = [];
  let parts: Buffer[] = [];
  for (const s of steps) {
    if (s.type === 'error') out.push(`error ${s.error.closeCode}`);
    else if (s.type === 'control') out.push(`control ${s.frame.opcode} ${s.frame.payload.toString()}`);
    else {
      parts.push(s.frame.payload);
      if (s.last) {
        out.push(`${s.message.kind}${s.message.compressed ? ' compressed' : ''} #${s.message.index} ${Buffer.concat(parts).toString()} (${s.sizeBytes})`);
        parts = [];
      }
    }
  }
  return out;
}

const frame = (opcode: number, text: string, fin = true, rsv1 = false) => encodeFrame({ opcode, payload: Buffer.from(text), fin, rsv1 });

describe('MessageAssembler', () => {
  it('joins "Hel" + "lo" (RFC 6455 §5.7) and numbers messages', () => {
    const input = Buffer.concat([hex('01 03 48 65 6c 80 02 6c 6f'), frame(Opcode.binary, 'next')]);
    for (const sizes of [[input.length], [1]]) {
      const steps = assemble(input, sizes);
      expect(summary(steps)).toEqual(['text #0 Hello (5)', 'binary #1 next (4)']);
      const data = steps.filter((s) => s.type === 'data');
      expect(data.map((s) => (s.type === 'data' ? [s.first, s.last] : []))).toEqual([
        [true, false],
        [false, true],
        [true, true],
      ]);
    }
  });

  it('passes control frames between fragments without ending the message', () => {
    const input = Buffer.concat([
      frame(Opcode.text, 'a', false),
      frame(Opcode.ping, 'p1'),
      frame(Opcode.continuation, 'b', false),
      frame(Opcode.pong, 'p2'),
      frame(Opcode.ping, 'p3'),
      frame(Opcode.continuation, 'c'),
      frame(Opcode.close, ''),
    ]);
    expect(summary(assemble(input, [2]))).toEqual(['control 9 p1', 'control 10 p2', 'control 9 p3', 'text #0 abc (3)', 'control 8 ']);
  });

  it('RSV1 on the first frame marks a compressed message', () => {
    const input = Buffer.concat([frame(Opcode.binary, 'x', false, true), frame(Opcode.continuation, 'y'), frame(Opcode.text, 'plain')]);
    expect(summary(assemble(input))).toEqual(['binary compressed #0 xy (2)', 'text #1 plain (5)']);
  });

  it('a continuation without a message to continue is 1002', () => {
    expect(summary(assemble(frame(Opcode.continuation, 'x')))).toEqual(['error 1002']);
  });

  it('a new text or binary frame while a message is open is 1002', () => {
    expect(summary(assemble(Buffer.concat([frame(Opcode.text, 'a', false), frame(Opcode.binary, 'b')])))).toEqual(['error 1002']);
    const steps = assemble(Buffer.concat([frame(Opcode.text, 'a', false), frame(Opcode.text, 'b', false)]));
    expect(steps[1]).toMatchObject({ type: 'error', error: { closeCode: CloseCode.protocolError } });
  });

  it('follows streamed pieces: first only on the piece with the header, sizes as they come', () => {
    const input = Buffer.concat([frame(Opcode.binary, 'x'.repeat(300), false), frame(Opcode.continuation, 'y'.repeat(200))]);
    const steps = assemble(input, [50], 100);
    expect(steps.filter((s) => s.type === 'data' && s.first)).toHaveLength(1);
    expect(steps.at(-1)).toMatchObject({ type: 'data', last: true, sizeBytes: 500 });
    expect(summary(steps)).toEqual([`binary #0 ${'x'.repeat(300)}${'y'.repeat(200)} (500)`]);
  });
});
