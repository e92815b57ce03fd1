// The incident store's metrics, read from the recorder's stats() at scrape time: records written
// to the store, records dropped by reason (queue_full, write_failed, closed, malformed), records
// deleted by retention (age) and the size cap (size), the queue, and the store's bytes on disk.
// A cluster worker has no store: it reports its drops and queue; the primary, which owns the
// store, reports the rest (the series sum across processes).
import { Counter, Gauge, type Registry } from 'prom-client';

/** What the metrics read of an IncidentRecorder (metrics/ imports only core/: the shape, not the class). */
export interface IncidentMetricSource {
  stats(): {
    queued: number;
    written: number;
    dropped: Record<string, number>;
    store: { sizeBytes: number; expired: number; evicted: number } | undefined;
  };
}

export function registerIncidentMetrics(registry: Registry, source: IncidentMetricSource): void {
  const registers = [registry];
  new Counter({
    name: 'dlp_proxy_incidents_written_total',
    help: 'Incident records written to the store',
    registers,
    collect() {
      this.reset();
      this.inc(source.stats().written);
    },
  });
  new Counter({
    name: 'dlp_proxy_incidents_dropped_total',
    help: 'Incident records lost, by reason (queue_full: incidents.queueSize waiting; write_failed: the store or the cluster primary failed; closed: after shutdown; malformed: a record a worker sent failed its check)',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(source.stats().dropped)) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: 'dlp_proxy_incidents_deleted_total',
    help: 'Incident records deleted, by reason (age: past incidents.retentionDays; size: to stay under incidents.maxBytes)',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      const store = source.stats().store;
      if (!store) return;
      this.inc({ reason: 'age' }, store.expired);
      this.inc({ reason: 'size' }, store.evicted);
    },
  });
  new Gauge({
    name: 'dlp_proxy_incident_queue_length',
    help: 'Incident records waiting to be written (or sent to the cluster primary)',
    registers,
    collect() {
      this.set(source.stats().queued);
    },
  });
  new Gauge({
    name: 'dlp_proxy_incident_store_bytes',
    help: 'Bytes of the incident store on disk (database file and WAL), as of its last write or retention run',
    registers,
    // one store, in the one process that owns it; a worker reports none
    aggregator: 'max',
    collect() {
      this.reset();
      const store = source.stats().store;
      if (store) this.set(store.sizeBytes);
    },
  });
}
