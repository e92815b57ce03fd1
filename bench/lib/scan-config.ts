// dlp-proxy configs of the scanned scenarios: one policy rule that scans the direction under test
// (uploads by REQMOD with the `dlp` service, downloads by RESPMOD with `av`), against the built-in
// ICAP service (in the proxy process, as `npm start` runs it, or in a process of its own) or
// against the run's c-icap (`vendor: c-icap`, which docs/decisions.md requires for c-icap: it
// holds bodies without a content-length whole, because srv_content_filtering passes them unscanned
// otherwise). A download rule may carry a `delivery` mode (hold, trickle, patience).
import { ConfigError, parseConfig } from '../../src/config/index.js';
import type { ConfigDoc, DeliveryMode, SetupContext } from './types.js';

export type Direction = 'upload' | 'download';

const serviceOf = (direction: Direction) => (direction === 'upload' ? 'dlp' : 'av');

function policy(direction: Direction): ConfigDoc['policy'] {
  return [{ name: `${direction}s`, match: { direction }, scan: serviceOf(direction) }];
}

/** `separate`: the built-in service runs in a process of its own instead of the proxy's worker thread. */
export function scanWithBuiltin(direction: Direction, where: 'in-process' | 'separate' = 'in-process'): (ctx: SetupContext) => Promise<ConfigDoc> {
  return async (ctx) => {
    const service = serviceOf(direction);
    if (where === 'separate') {
      return { services: { [service]: { urls: [`icap://127.0.0.1:${await ctx.builtinIcapPort()}/${service}`] } }, policy: policy(direction) };
    }
    const icapPort = await ctx.freePort();
    return {
      icapServer: { enabled: true, port: icapPort },
      services: { [service]: { urls: [`icap://127.0.0.1:${icapPort}/${service}`] } },
      policy: policy(direction),
    };
  };
}

export function scanWithCicap(direction: Direction): (ctx: SetupContext) => Promise<ConfigDoc> {
  return async (ctx) => {
    const service = serviceOf(direction);
    return {
      services: { [service]: { urls: [await ctx.cicapUrl(service)], vendor: 'c-icap' } },
      policy: policy(direction),
    };
  };
}

/**
 * Downloads scanned by the built-in `av` service as `npm start` runs it (in the proxy's worker
 * thread), the rule delivering by `mode` with its other delivery settings at their defaults.
 */
export function scanDownloadsWithDelivery(mode: DeliveryMode): (ctx: SetupContext) => Promise<ConfigDoc> {
  const scan = scanWithBuiltin('download');
  return async (ctx) => {
    const doc = await scan(ctx);
    return { ...doc, policy: (doc.policy as ConfigDoc[]).map((rule) => ({ ...rule, delivery: { mode } })) };
  };
}

/** Why this build cannot set a rule's `delivery.mode` (the key is not in its schema), or undefined. */
export function deliveryKeyMissing(mode: DeliveryMode): string | undefined {
  try {
    parseConfig({ services: { av: { urls: ['icap://127.0.0.1:1344/av'] } }, policy: [{ name: 'downloads', match: { direction: 'download' }, scan: 'av', delivery: { mode } }] });
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return `this build has no policy rule key \`delivery: { mode: ${mode} }\` (src/config/schema.ts: ${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')})`;
  }
}
