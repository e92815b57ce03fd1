// ICAP server health in the log: one line when a server is suspended after repeated failures
// (warn) and one when a probe revives it (info), so operators see failover without a dashboard.
import dc from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import { ICAP_SERVER_STATE_CHANNEL, type IcapServerStateMessage } from '../icap/index.js';

export function subscribeIcapLog(logger: Logger): () => void {
  const log = logger.child({ log: 'icap' });
  const channel = dc.channel(ICAP_SERVER_STATE_CHANNEL);
  const handler = (message: unknown) => {
    const { service, server, state, reason, failures } = message as IcapServerStateMessage;
    if (state === 'suspended') log.warn({ service, server, failures, reason }, 'ICAP server suspended: traffic goes to the other servers of the service, or takes its fail mode');
    else log.info({ service, server, reason }, 'ICAP server back in service');
  };
  channel.subscribe(handler);
  return () => channel.unsubscribe(handler);
}
