// ICAP servers in the log: one line when a server is suspended after repeated failures (warn) and
// one when a probe revives it (info), so operators see failover without a dashboard; and, once per
// service, the vendor profile chosen to read its answers and why (warn when a configured vendor
// disagrees with what OPTIONS say, or when the profile changes under a running proxy).
import dc from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import { VENDOR_PROFILE_CHANNEL, type VendorProfileMessage } from '../enforce/index.js';
import { ICAP_SERVER_STATE_CHANNEL, type IcapServerStateMessage } from '../icap/index.js';

export function subscribeIcapLog(logger: Logger): () => void {
  const log = logger.child({ log: 'icap' });
  const channel = dc.channel(ICAP_SERVER_STATE_CHANNEL);
  const handler = (message: unknown) => {
    const { service, server, state, reason, failures } = message as IcapServerStateMessage;
    if (state === 'suspended') log.warn({ service, server, failures, reason }, 'ICAP server suspended: traffic goes to the other servers of the service, or takes its fail mode');
    else log.info({ service, server, reason }, 'ICAP server back in service');
  };
  const vendorChannel = dc.channel(VENDOR_PROFILE_CHANNEL);
  const vendorHandler = (message: unknown) => {
    const { service, vendor, configured, detected, reason, previous } = message as VendorProfileMessage;
    const fields = { service, vendor, configured, detected, detection: reason, ...(previous === undefined ? {} : { previous }) };
    if (configured !== 'auto' && detected !== 'generic' && detected !== configured) {
      log.warn(fields, `ICAP vendor profile ${vendor} (configured), but OPTIONS look like ${detected}: ${reason}`);
    } else if (previous !== undefined) {
      log.warn(fields, `ICAP vendor profile changed from ${previous} to ${vendor}: ${reason}`);
    } else {
      log.info(fields, configured === 'auto' ? `ICAP vendor profile ${vendor} (auto): ${reason}` : `ICAP vendor profile ${vendor} (configured)`);
    }
  };
  channel.subscribe(handler);
  vendorChannel.subscribe(vendorHandler);
  return () => {
    channel.unsubscribe(handler);
    vendorChannel.unsubscribe(vendorHandler);
  };
}
