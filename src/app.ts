// Composition root: builds every module from the validated Config, wires the lifecycle-event
// subscribers, and closes everything in reverse order. Nothing else reads the whole Config.
import path from 'node:path';
import type { Logger } from 'pino';
import { CertificateAuthority } from './ca/index.js';
import type { Config } from './config/index.js';
import type { ErrorCode } from './core/errors.js';
import { renderPage } from './enforce/index.js';
import { createLogger, subscribeAccessLog } from './log/index.js';
import { ExchangePipeline, type Page } from './pipeline/index.js';
import { compilePolicy } from './policy/index.js';
import { ProxyFront } from './proxy/index.js';
import { OriginClient } from './upstream/index.js';

export interface App {
  config: Config;
  logger: Logger;
  ca: CertificateAuthority;
  proxyPort: number;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

export async function startApp(config: Config, options: StartOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.log);
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn();
  };
  try {
    closers.push(subscribeAccessLog(logger));

    const { ca, created, warnings } = await CertificateAuthority.loadOrCreate({
      dir: path.resolve(config.ca.dir),
      leafValidityDays: config.ca.leafValidityDays,
      certCacheSize: config.ca.certCacheSize,
    });
    for (const warning of warnings) logger.warn({ log: 'ca' }, warning);
    logger.info({ log: 'ca', dir: path.resolve(config.ca.dir), created, fingerprint256: ca.fingerprint256 }, created ? 'CA created' : 'CA loaded');

    const policy = compilePolicy([...config.policy], { ...config.services }, [...config.proxy.tunnel]);
    const upstream = new OriginClient(config.upstream);
    closers.push(() => upstream.close());

    const page = (status: number, code: ErrorCode, host: string | undefined, accept: string | undefined): Page =>
      renderPage(status === 503 ? 'unavailable' : 'error', { status, code, host }, accept);

    const pipeline = new ExchangePipeline({ viaName: config.proxy.viaName, upstream, page });
    const front = new ProxyFront(
      {
        host: config.proxy.host,
        port: config.proxy.port,
        allowedClients: config.proxy.allowedClients,
        auth: config.proxy.auth,
        clientHeadersTimeoutMs: config.proxy.clientHeadersTimeoutMs,
        clientIdleTimeoutMs: config.proxy.clientIdleTimeoutMs,
        maxHeaderBytes: config.proxy.maxHeaderBytes,
        tunnelConnectTimeoutMs: config.upstream.connectTimeoutMs,
      },
      {
        secureContext: (host) => ca.getSecureContext(host),
        connectAction: (host) => policy.connectAction(host),
        exchange: (req, res, origin, client, intercepted) => pipeline.handle(req, res, origin, client, intercepted),
        upgrade: (req, socket, head, origin, client) => pipeline.upgrade(req, socket, head, origin, client),
        page,
      },
    );
    const proxyPort = await front.listen();
    closers.push(() => front.close());
    logger.info({ log: 'proxy', host: config.proxy.host, port: proxyPort, policyVersion: policy.version }, 'proxy listening');

    return { config, logger, ca, proxyPort, close };
  } catch (err) {
    await close();
    throw err;
  }
}
