// One line per block or monitored violation, with the incident id shown on the block page:
// who, what, where, which service and ISTag, which rule, the violation names, the size and the
// SHA-256 of the body. Never content, never the query string.
import type { Logger } from 'pino';
import { events } from '../core/events.js';
import { isViolation, violationFields } from './violation-fields.js';

export function subscribeViolationLog(logger: Logger): () => void {
  const log = logger.child({ log: 'violation' });
  return events.verdict.subscribe((event) => {
    const { verdict } = event;
    if (!isViolation(event) && verdict.source !== 'fail-open' && verdict.source !== 'unscanned') return;
    // pino stamps its own time
    const { time: _time, ...fields } = violationFields(event);
    if (verdict.source === 'fail-open') log.warn(fields, 'passed unscanned: scanning failed and the service fails open');
    else if (verdict.source === 'unscanned') log.warn(fields, `passed unscanned: ${verdict.reason ?? 'no completed scan'}`);
    else log.warn(fields, event.monitored ? 'violation (monitor only, passed)' : 'violation blocked');
  });
}
