// `dlp-proxy icap-server [--config F]`: the built-in ICAP DLP/AV service alone, without the
// proxy (a reference server for other proxies such as squid). It runs in this process: there is
// no proxy event loop here to protect. Resolves once `signal` aborts (SIGINT/SIGTERM when absent).
// SIGHUP re-reads the EDM and fingerprint files; the new ISTags (or why not) go to stderr.
import type { Config } from '../config/index.js';
import { listenIcapServer, reloadChannel, reloadOnSighup } from '../icap-server/index.js';

export async function runIcapServer(config: Config['icapServer'], signal?: AbortSignal): Promise<void> {
  const handle = await listenIcapServer({ config });
  process.stderr.write(`dlp-proxy icap-server listening on icap://${config.host}:${handle.port}/dlp and /av\n`);
  const onReload = (message: unknown) => {
    const { istags, error } = message as { istags?: Record<string, string>; error?: string };
    process.stderr.write(error === undefined ? `dlp-proxy icap-server reloaded: ISTags ${JSON.stringify(istags)}\n` : `dlp-proxy icap-server not reloaded (the data sets in force stay): ${error}\n`);
  };
  reloadChannel.subscribe(onReload);
  const stopSignals = reloadOnSighup(() => handle.reload());
  await new Promise<void>((resolve) => {
    if (signal) {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  stopSignals();
  reloadChannel.unsubscribe(onReload);
  await handle.close();
}
