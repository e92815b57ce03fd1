// A reference point, not a product: the smallest keep-alive forward proxy node:http can make
// (absolute-form requests only, hop-by-hop headers dropped, bodies piped), in its own process like
// dlp-proxy. Its row says what Node itself costs on this machine, so dlp-proxy's distance to squid
// splits into "Node's http stack" and "our code on top of it".
// With an ICAP URL it is also the floor of a scanning proxy: each request body is held whole and
// sent by REQMOD (RFC 3507 §4.8: no preview, Allow: 204, head and body in one write on a kept-alive
// connection), and the request goes on with the body the server returned, or the server's own
// response is the answer (a block). No timeouts, limits, cache or logging: what Node and the ICAP
// round trip alone cost, beside dlp-proxy's scan path.
// With --undici it talks to origins as dlp-proxy does (undici's dispatcher, one handler per
// request, bodies written as they come): the floor of the stack dlp-proxy is built on, where the
// plain one is the floor of Node's own http client.
// usage (forked by bench/lib/targets.ts): node-proxy-child.mjs [--undici] [icap://HOST:PORT/SERVICE]
// (JavaScript, one process, as dlp-proxy's proxy-child.mjs)
import http from 'node:http';
import net from 'node:net';
import { Agent } from 'undici';

if (!process.send) {
  process.stderr.write('usage: node-proxy-child.mjs [--undici] [icap://HOST:PORT/SERVICE] (forked with IPC)\n');
  process.exit(2);
}
const useUndici = process.argv[2] === '--undici';
const positional = process.argv.slice(useUndici ? 3 : 2);

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization']);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const icapUrl = positional[0] ? new URL(positional[0]) : undefined;
const CRLF2 = Buffer.from('\r\n\r\n');

function forwardHeaders(raw) {
  const out = {};
  for (const [name, value] of Object.entries(raw)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  return out;
}

const undici = new Agent({ connections: 256 });

/** The same forward through undici: the origin's head and bytes go to the client as they arrive. */
function forwardUndici(req, res, target, body) {
  const headers = forwardHeaders(req.headers);
  if (body) headers['content-length'] = String(body.length);
  const fail = () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  };
  undici.dispatch(
    { origin: target.origin, method: req.method, path: `${target.pathname}${target.search}`, headers, body: body ?? (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined ? req : null) },
    {
      onConnect() {},
      onHeaders(status, raw, resume) {
        // false from onData pauses the origin's parser until the client drained
        res.on('drain', resume);
        const out = [];
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i].toString('latin1');
          if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, raw[i + 1].toString('latin1'));
        }
        res.writeHead(status, out);
        return true;
      },
      onData(chunk) {
        return res.write(chunk);
      },
      onComplete() {
        res.end();
      },
      onError: fail,
    },
  );
}

function forward(req, res, target, body) {
  if (useUndici) return forwardUndici(req, res, target, body);
  const headers = forwardHeaders(req.headers);
  if (body) headers['content-length'] = String(body.length);
  const upstream = http.request(
    { agent, host: target.hostname, port: target.port || 80, method: req.method, path: `${target.pathname}${target.search}`, headers },
    (origin) => {
      res.writeHead(origin.statusCode ?? 502, forwardHeaders(origin.headers));
      origin.pipe(res);
    },
  );
  upstream.once('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  if (body) upstream.end(body);
  else req.pipe(upstream);
}

/** Kept-alive ICAP connections not in use. */
const idle = [];

function connect() {
  const socket = net.connect(Number(icapUrl.port || 1344), icapUrl.hostname);
  // a connection the server closed while idle is not used again
  socket.once('close', () => idle.includes(socket) && idle.splice(idle.indexOf(socket), 1));
  socket.on('error', () => undefined);
  return socket;
}

/** The dechunked body of a chunked message in `buf` from `at`, or undefined while it is incomplete. */
function dechunk(buf, at) {
  const parts = [];
  for (;;) {
    const line = buf.indexOf('\r\n', at);
    if (line < 0) return undefined;
    const size = parseInt(buf.toString('latin1', at, line), 16);
    if (size === 0) return buf.length >= line + 4 ? Buffer.concat(parts) : undefined;
    if (buf.length < line + 2 + size + 2) return undefined;
    parts.push(buf.subarray(line + 2, line + 2 + size));
    at = line + 2 + size + 2;
  }
}

/** REQMOD of `head` + `body`; resolves with { status, encapsulated head text, body } of the answer. */
function reqmod(head, body) {
  return new Promise((resolve, reject) => {
    const socket = idle.pop() ?? connect();
    let buf = Buffer.alloc(0);
    const onData = (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const end = buf.indexOf(CRLF2);
      if (end < 0) return;
      const icapHead = buf.toString('latin1', 0, end);
      const status = Number(icapHead.slice(9, 12));
      const enc = /encapsulated:\s*([^\r\n]*)/i.exec(icapHead)?.[1] ?? '';
      let answer;
      if (status === 200) {
        const offsets = [...enc.matchAll(/([a-z-]+)=(\d+)/g)];
        const bodyAt = offsets.find(([, name]) => name.endsWith('-body'));
        const inner = end + 4;
        if (!bodyAt || buf.length < inner + Number(bodyAt[2])) return;
        const chunks = dechunk(buf, inner + Number(bodyAt[2]));
        if (!chunks) return;
        answer = { status, head: buf.toString('latin1', inner, inner + Number(bodyAt[2])), body: chunks };
      } else answer = { status };
      socket.off('data', onData);
      socket.off('error', reject);
      if (/^connection:\s*close/im.test(icapHead)) socket.end();
      else idle.push(socket);
      resolve(answer);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.cork();
    socket.write(`REQMOD ${icapUrl.href} ICAP/1.0\r\nHost: ${icapUrl.host}\r\nAllow: 204\r\nEncapsulated: req-hdr=0, req-body=${Buffer.byteLength(head)}\r\n\r\n${head}${body.length.toString(16)}\r\n`);
    socket.write(body);
    socket.write('\r\n0\r\n\r\n');
    socket.uncork();
  });
}

async function scanThenForward(req, res, target) {
  const parts = [];
  for await (const chunk of req) parts.push(chunk);
  const body = Buffer.concat(parts);
  const lines = Object.entries(forwardHeaders(req.headers)).map(([name, value]) => `${name}: ${value}\r\n`);
  const answer = await reqmod(`${req.method} ${req.url} HTTP/1.1\r\n${lines.join('')}\r\n`, body);
  if (answer.status === 204) return forward(req, res, target, body);
  if (answer.status !== 200) return res.writeHead(502).end();
  // the server's own response (a block page) or the request as it returned it
  if (answer.head.startsWith('HTTP/')) return res.writeHead(Number(answer.head.slice(9, 12))).end(answer.body);
  forward(req, res, target, answer.body);
}

const server = http.createServer((req, res) => {
  let target;
  try {
    target = new URL(req.url ?? '');
  } catch {
    res.writeHead(400).end();
    return;
  }
  if (!icapUrl || req.headers['content-length'] === undefined) return forward(req, res, target);
  scanThenForward(req, res, target).catch(() => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
});
server.keepAliveTimeout = 65_000;

server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: server.address().port }));
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close();
  process.exit(0);
});
process.once('disconnect', () => process.exit(0));
