// A cluster worker's link to the primary: a batch is taken once the primary acknowledges it; a
// send that fails or an acknowledgement that never comes fails the batch (the writer counts it).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IpcIncidentSink, type IncidentBatchMessage } from '../../../src/incidents/index.js';
import { ACK_TIMEOUT_MS } from '../../../src/incidents/ipc-incident-sink.js';
import { incident } from '../../support/incident-store-contract.js';

describe('IpcIncidentSink', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the batch and resolves on its acknowledgement (by id, in any order)', async () => {
    const sent: IncidentBatchMessage[] = [];
    const sink = new IpcIncidentSink(async (m) => void sent.push(m));
    const a = sink.write([incident()]);
    const b = sink.write([incident(), incident()]);
    await Promise.resolve();
    expect(sent.map((m) => [m.type, m.records.length])).toEqual([['incidents', 1], ['incidents', 2]]);
    let aDone = false;
    void a.then(() => (aDone = true));
    sink.acknowledge({ type: 'incidents-ack', id: sent[1]!.id });
    await b;
    expect(aDone).toBe(false);
    sink.acknowledge({ type: 'incidents-ack', id: sent[0]!.id });
    await a;
    // a stray or repeated acknowledgement is ignored
    sink.acknowledge({ type: 'incidents-ack', id: sent[0]!.id });
    sink.acknowledge({ type: 'incidents-ack', id: 999 });
  });

  it('fails the batch when the channel refuses it', async () => {
    const sink = new IpcIncidentSink(async () => {
      throw new Error('channel closed');
    });
    await expect(sink.write([incident()])).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('channel closed') });
  });

  it('fails the batch when no acknowledgement comes within the timeout', async () => {
    vi.useFakeTimers();
    const sink = new IpcIncidentSink(async () => undefined);
    const written = sink.write([incident()]);
    const outcome = expect(written).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('did not acknowledge') });
    await vi.advanceTimersByTimeAsync(ACK_TIMEOUT_MS + 1);
    await outcome;
  });
});
