// One line per block or monitored violation, with the incident id shown on the block page:
// who, what, where, which service and ISTag, which rule, the violation names, the size and the
// SHA-256 of the body. Never content, never the query string.
import type { Logger } from 'pino';
import { events } from '../core/events.js';

export function subscribeViolationLog(logger: Logger): () => void {
  const log = logger.child({ log: 'violation' });
  return events.verdict.subscribe((event) => {
    const { exchange, verdict } = event;
    const blocked = verdict.action === 'block';
    if (!blocked && !event.monitored && verdict.source !== 'fail-open') return;
    const fields = {
      incident: exchange.id,
      client: exchange.client.ip,
      user: exchange.client.user,
      method: exchange.method,
      host: exchange.host,
      path: exchange.path,
      direction: event.direction,
      service: event.service || undefined,
      istag: event.istag,
      rule: event.rule,
      action: event.monitored ? 'monitor' : verdict.action,
      source: verdict.source,
      violations: verdict.violations,
      reason: verdict.reason,
      sizeBytes: event.sizeBytes,
      sha256: event.sha256,
    };
    if (verdict.source === 'fail-open') log.warn(fields, 'passed unscanned: scanning failed and the service fails open');
    else log.warn(fields, event.monitored ? 'violation (monitor only, passed)' : 'violation blocked');
  });
}
