// dlp-proxy configs of the scanned scenarios: one policy rule that scans the direction under test
// (uploads by REQMOD with the `dlp` service, downloads by RESPMOD with `av`), against the built-in
// ICAP service (in the proxy process, as `npm start` runs it, or in a process of its own) or
// against the run's c-icap (`vendor: c-icap`, which docs/decisions.md requires for c-icap: it
// holds bodies without a content-length whole, because srv_content_filtering passes them unscanned
// otherwise).
import type { ConfigDoc, SetupContext } from './types.js';

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
