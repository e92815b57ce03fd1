// How a transaction's bytes reach the socket: each IcapConnection.write() is one cork/uncork, so
// one writev. A spooled body takes the fewest: head + preview + `0` in one, and after
// `100 Continue` the rest with its last chunk in one; without preview, head + body + `0` in one.
// A body whose end is not known yet is still sent whole, in order, with the last chunk after it.
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HttpHead } from '../../../src/core/types.js';
import { IcapConnection } from '../../../src/icap/connection.js';
import { IcapService } from '../../../src/icap/index.js';
import { startFakeIcapServer, type FakeIcapServer } from '../../support/fake-icap-server.js';

const POST: HttpHead = { kind: 'request', method: 'POST', target: 'http://example.test/upload.txt', version: '1.1', headers: [['Host', 'example.test']] };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  vi.restoreAllMocks();
});

async function setup(): Promise<{ server: FakeIcapServer; icap: IcapService; writes: string[][] }> {
  const server = await startFakeIcapServer();
  cleanups.push(() => server.close());
  const icap = new IcapService({
    name: 'dlp',
    servers: [{ url: server.url('dlp'), weight: 1 }],
    maxConnections: 4, connectTimeoutMs: 1000, previewTimeoutMs: 1000, readIdleTimeoutMs: 1000, queueTimeoutMs: 1000, idleTimeoutMs: 5000,
  });
  cleanups.push(() => icap.close());
  await icap.options();
  const writes: string[][] = [];
  const original = IcapConnection.prototype.write;
  vi.spyOn(IcapConnection.prototype, 'write').mockImplementation(function (this: IcapConnection, chunks: Buffer[]) {
    writes.push(chunks.map((c) => c.toString('latin1')));
    return original.call(this, chunks);
  });
  return { server, icap, writes };
}

/** A body in several chunks all at hand, as a spool replays one from RAM. */
const spooled = (data: Buffer, parts = 4) => Readable.from(Array.from({ length: parts }, (_, i) => data.subarray((i * data.length) / parts, ((i + 1) * data.length) / parts)));

const text = (size: number, seed: string) => Buffer.from(seed.repeat(Math.ceil(size / seed.length)).slice(0, size));

describe('ICAP request writes', () => {
  it('a spooled 16 KiB body: head + preview + 0 in one write, the rest + last chunk in one more', async () => {
    const { server, icap, writes } = await setup();
    const data = text(16 * 1024, 'abcdefghij');
    const result = await icap.send({ method: 'REQMOD', reqHead: POST, body: spooled(data), bodyBytes: data.length, allow204: true });
    expect(result.kind).toBe('unmodified');
    expect(writes).toHaveLength(2);
    expect(writes[0]![0]).toMatch(/^REQMOD icap:\/\/.* ICAP\/1\.0\r\n/);
    expect(writes[0]!.join('')).toMatch(/\r\n400\r\n[a-j]{1024}\r\n0\r\n\r\n$/);
    expect(writes[1]!.at(-1)).toBe('0\r\n\r\n');
    expect(server.requests.at(-1)!.body.equals(data)).toBe(true);
  });

  it('without preview: head, body and last chunk in a single write', async () => {
    const { server, icap, writes } = await setup();
    const data = text(40 * 1024, 'klmnopq');
    await icap.send({ method: 'REQMOD', reqHead: POST, body: spooled(data, 5), bodyBytes: data.length, allow204: true, preview: false });
    expect(writes).toHaveLength(1);
    expect(writes[0]![0]).toMatch(/^REQMOD /);
    expect(writes[0]!.at(-1)).toBe('0\r\n\r\n');
    expect(server.requests.at(-1)!.body.equals(data)).toBe(true);
  });

  it('a body given as its RAM chunks (no stream): the same two writes as a spooled stream, byte for byte', async () => {
    const { server, icap, writes } = await setup();
    const data = text(16 * 1024, 'rstuvw');
    const chunks = [data.subarray(0, 100), data.subarray(100, 9000), data.subarray(9000)];
    const result = await icap.send({ method: 'REQMOD', reqHead: POST, body: chunks, bodyBytes: data.length, allow204: true });
    expect(result.kind).toBe('unmodified');
    expect(writes).toHaveLength(2);
    // the preview: 100 bytes then 924, cut where the chunks are, then its end
    expect(writes[0]!.join('')).toMatch(/\r\n64\r\n[r-w]{100}\r\n39c\r\n[r-w]{924}\r\n0\r\n\r\n$/);
    expect(writes[1]!.at(-1)).toBe('0\r\n\r\n');
    expect(server.requests.at(-1)!.body.equals(data)).toBe(true);
  });

  it('a body still arriving (length unknown) is sent whole and in order; the last chunk follows its end', async () => {
    const { server, icap, writes } = await setup();
    const parts = [text(3000, 'A'), text(70 * 1024, 'B'), text(5, 'C')];
    const source = new Readable({ read() {} });
    let i = 0;
    const timer = setInterval(() => {
      if (i < parts.length) source.push(parts[i++]);
      else {
        source.push(null);
        clearInterval(timer);
      }
    }, 10);
    const result = await icap.send({ method: 'REQMOD', reqHead: POST, body: source, allow204: true });
    expect(result.kind).toBe('unmodified');
    expect(server.requests.at(-1)!.body.equals(Buffer.concat(parts))).toBe(true);
    expect(writes.at(-1)).toEqual(['0\r\n\r\n']);
  });

  it('a declared length is where the last chunk goes: nothing after it reaches the server', async () => {
    const { server, icap, writes } = await setup();
    const data = text(8 * 1024, 'xyz');
    await icap.send({ method: 'REQMOD', reqHead: POST, body: spooled(data, 2), bodyBytes: data.length, allow204: true, preview: 1024 });
    // Each write's chunk framing is complete: the server decoded exactly the body and its end.
    expect(server.requests.at(-1)!.body.length).toBe(data.length);
    expect(writes.flat().filter((w) => w === '0\r\n\r\n')).toHaveLength(2); // preview end, body end
  });
});

describe('ICAP request buffers', () => {
  it('a body spooled on disk reaches the server byte for byte while its reader reuses buffers', async () => {
    const { Spool } = await import('../../../src/body/index.js');
    const { server, icap } = await setup();
    const data = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32BE(i, i); // every offset distinct
    const spool = new Spool({ memoryBytes: 64 * 1024 });
    spool.end(data);
    const body = await spool.done;
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    const result = await icap.send({ method: 'REQMOD', reqHead: POST, body: body.replay(), bodyBytes: data.length, allow204: true });
    expect(result.kind).toBe('unmodified');
    expect(server.requests.at(-1)!.body.equals(data)).toBe(true);
    // 48 file reads of 64 KiB, most into buffers the transaction gave back.
    expect(alloc.mock.calls.filter(([n]) => n === 64 * 1024).length).toBeLessThan(10);
    await body.dispose();
  });
});

describe('ICAP connection reuse', () => {
  it('sequential and concurrent transactions of spooled bodies keep their connections (none closed for an early answer)', async () => {
    const { server, icap } = await setup();
    const data = text(16 * 1024, 'reuse');
    for (let i = 0; i < 30; i++) {
      expect((await icap.send({ method: 'REQMOD', reqHead: POST, body: spooled(data), bodyBytes: data.length, allow204: true })).kind).toBe('unmodified');
    }
    expect(server.connections).toBe(1); // OPTIONS, then every transaction on the same connection
    await Promise.all(Array.from({ length: 40 }, () => icap.send({ method: 'REQMOD', reqHead: POST, body: spooled(data), bodyBytes: data.length, allow204: true })));
    expect(server.connections).toBeLessThanOrEqual(4); // maxConnections, never one per transaction
  });
});
