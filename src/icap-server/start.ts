// Starts the built-in ICAP server in a worker thread (node:worker_threads), so that scanning
// never blocks the proxy's event loop. From compiled JavaScript the worker loads worker.js; from
// TypeScript sources (tests, tsx) it registers tsx inside the worker first.
import { Worker } from 'node:worker_threads';
import { ProxyError } from '../core/errors.js';
import type { IcapServerHandle, IstagListener, ListenOptions } from './server.js';

function spawnWorker(workerData: ListenOptions): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}

export async function startIcapServer(options: ListenOptions): Promise<IcapServerHandle> {
  const worker = spawnWorker(options);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const ready = await new Promise<{ port: number; istags: Record<string, string> }>((resolve, reject) => {
    worker.once('error', (err) => reject(new ProxyError('INTERNAL', `ICAP server worker failed: ${err.message}`, { cause: err })));
    worker.once('exit', (code) => reject(new ProxyError('INTERNAL', `ICAP server worker exited with code ${code} before listening`)));
    worker.once('message', (message: { type: string; port?: number; istags?: Record<string, string>; message?: string }) => {
      if (message.type === 'listening' && message.port !== undefined) resolve({ port: message.port, istags: message.istags ?? {} });
      else reject(new ProxyError('CONFIG_INVALID', message.message ?? 'ICAP server worker did not start'));
    });
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  // A crash after start must not take the proxy down; it is the lead's call to restart or not.
  worker.on('error', () => undefined);
  // The worker tells every ISTag change (a reload, a clamd signature update) before it answers a reload.
  const listeners = new Set<IstagListener>();
  worker.on('message', (message: { type: string; istags?: Record<string, string> }) => {
    if (message.type !== 'istags' || message.istags === undefined) return;
    Object.assign(handle.istags, message.istags);
    for (const fn of listeners) fn({ ...message.istags });
  });
  let closing: Promise<void> | undefined;
  let reloading: Promise<Record<string, string>> = Promise.resolve({});
  const handle: IcapServerHandle = {
    ...ready,
    reload() {
      reloading = reloading.catch(() => ({})).then(
        () =>
          new Promise<Record<string, string>>((resolve, reject) => {
            const onMessage = (message: { type: string; istags?: Record<string, string>; message?: string }) => {
              if (message.type === 'reloaded') resolve({ ...Object.assign(handle.istags, message.istags) });
              else if (message.type === 'reload-failed') reject(new ProxyError('CONFIG_INVALID', message.message ?? 'reload failed'));
              else return;
              worker.off('message', onMessage);
            };
            worker.on('message', onMessage);
            worker.postMessage('reload');
          }),
      );
      return reloading;
    },
    onIstagChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close() {
      closing ??= (async () => {
        worker.postMessage('close');
        const timer = setTimeout(() => void worker.terminate(), 5000);
        await exited;
        clearTimeout(timer);
      })();
      return closing;
    },
  };
  return handle;
}
