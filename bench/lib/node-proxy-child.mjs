// A reference point, not a product: the smallest keep-alive forward proxy node:http can make
// (absolute-form requests only, hop-by-hop headers dropped, bodies piped), in its own process like
// dlp-proxy. Its row says what Node itself costs on this machine, so dlp-proxy's distance to squid
// splits into "Node's http stack" and "our code on top of it".
// usage (forked by bench/lib/run-scenario.ts): node-proxy-child.mjs (JavaScript, one process, as dlp-proxy's proxy-child.mjs)
import http from 'node:http';

if (!process.send) {
  process.stderr.write('usage: node-proxy-child.mjs (forked with IPC)\n');
  process.exit(2);
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization']);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function forwardHeaders(raw) {
  const out = {};
  for (const [name, value] of Object.entries(raw)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  return out;
}

const server = http.createServer((req, res) => {
  let target;
  try {
    target = new URL(req.url ?? '');
  } catch {
    res.writeHead(400).end();
    return;
  }
  const upstream = http.request(
    { agent, host: target.hostname, port: target.port || 80, method: req.method, path: `${target.pathname}${target.search}`, headers: forwardHeaders(req.headers) },
    (origin) => {
      res.writeHead(origin.statusCode ?? 502, forwardHeaders(origin.headers));
      origin.pipe(res);
    },
  );
  upstream.once('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 65_000;

server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: server.address().port }));
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close();
  process.exit(0);
});
process.once('disconnect', () => process.exit(0));
