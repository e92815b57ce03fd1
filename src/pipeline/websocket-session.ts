// A WebSocket exchange after the origin switched protocols: the 101 goes to the client as the
// origin sent it, then the relay (websocket/) forwards frames. Each message of a direction the
// policy scans is handed to stages 2-5 as a body of its own — client→server by REQMOD with the
// upload decision's service, server→client by RESPMOD with the download's — verdict cache
// included, before any of its frames is forwarded. A violating message is never delivered: the
// relay closes both sides with 1008, and the violation is logged with the exchange's incident id.
import type http from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import { events } from '../core/events.js';
import type { Exchange } from '../core/exchange.js';
import { formatAuthority } from '../core/host.js';
import type { Decision, Direction, HttpHead, Verdict } from '../core/types.js';
import { reasonPhrase } from '../upstream/index.js';
import { scanBody, type BodyScanner } from './body-scan.js';
import { headerValue } from './message-heads.js';
import { relayWebSocket, type MessageVerdict, type WebSocketMessage } from './websocket/index.js';

export interface WebSocketLimits {
  /** a message larger than this (decompressed) takes the oversize action */
  maxMessageBytes: number;
  oversizeAction: 'block' | 'pass';
  /** no byte either way for this long closes the connection */
  idleTimeoutMs: number;
}

export async function relayWebSocketExchange(
  exchange: Exchange,
  req: http.IncomingMessage,
  client: { socket: Duplex; head: Buffer },
  origin: { socket: Duplex; head: Buffer; response: http.IncomingMessage },
  decisions: { upload: Decision; download: Decision },
  scanner: BodyScanner,
  limits: WebSocketLimits,
): Promise<void> {
  const { response } = origin;
  // node's parser lets a phrase with DEL or a control through: the client gets the standard one
  const lines = [`HTTP/1.1 101 ${reasonPhrase(101, response.statusMessage || undefined)}`];
  for (let i = 0; i < response.rawHeaders.length; i += 2) lines.push(`${response.rawHeaders[i]}: ${response.rawHeaders[i + 1]}`);
  client.socket.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
  exchange.status = 101;

  const url = `${exchange.scheme}://${formatAuthority(exchange.host, exchange.port, exchange.scheme === 'https' ? 443 : 80)}${req.url?.startsWith('/') ? req.url : exchange.path}`;
  const result = await relayWebSocket({
    client: client.socket,
    clientHead: client.head,
    origin: origin.socket,
    originHead: origin.head,
    extensions: headerValue(response.headers['sec-websocket-extensions']),
    inspect: { clientToServer: decisions.upload.action === 'scan', serverToClient: decisions.download.action === 'scan' },
    maxMessageBytes: limits.maxMessageBytes,
    oversizeAction: limits.oversizeAction,
    idleTimeoutMs: limits.idleTimeoutMs,
    scan: (message) => scanMessage(exchange, url, message, decisions, scanner, limits),
    onMessage: ({ message, outcome }) => {
      if (outcome !== 'unscanned') return;
      // Too large to scan and let through by scan.oversizeAction: pass — logged and counted as such.
      const side = sideOf(message.direction);
      const decision = side === 'upload' ? decisions.upload : decisions.download;
      const verdict: Verdict = { action: 'pass', reason: `a WebSocket message larger than ${limits.maxMessageBytes} bytes: passed unscanned (scan.oversizeAction: pass)`, violations: [], source: 'unscanned' };
      exchange.verdicts.push(verdict);
      events.verdict.publish({ exchange, direction: side, service: decision.service ?? '', verdict, istag: undefined, sha256: undefined, sizeBytes: message.sizeBytes, monitored: false, rule: decision.rule });
    },
  });
  exchange.requestBytes = result.bytes.clientToServer;
  exchange.responseBytes = result.bytes.serverToClient;
}

async function scanMessage(exchange: Exchange, url: string, message: WebSocketMessage, decisions: { upload: Decision; download: Decision }, scanner: BodyScanner, limits: WebSocketLimits): Promise<MessageVerdict> {
  const side = sideOf(message.direction);
  const decision = side === 'upload' ? decisions.upload : decisions.download;
  const authority = formatAuthority(exchange.host, exchange.port, exchange.scheme === 'https' ? 443 : 80);
  const type = message.kind === 'text' ? 'text/plain; charset=utf-8' : 'application/octet-stream';
  const length = String(message.payload.length);
  // The message as an HTTP body: what a DLP server expects in REQMOD (a POST to the socket's
  // URL) and an AV server in RESPMOD (a 200 to its GET).
  const reqHead: HttpHead =
    side === 'upload'
      ? { kind: 'request', method: 'POST', target: url, version: '1.1', headers: [['Host', authority], ['Content-Type', type], ['Content-Length', length]] }
      : { kind: 'request', method: 'GET', target: url, version: '1.1', headers: [['Host', authority]] };
  const resHead: HttpHead = { kind: 'response', status: 200, reason: 'OK', version: '1.1', headers: [['Content-Type', type], ['Content-Length', length]] };
  const outcome = await scanBody(scanner, {
    exchange,
    direction: side,
    decision,
    reqHead,
    ...(side === 'download' ? { resHead } : {}),
    body: Readable.from([message.payload]),
    declaredBytes: message.payload.length,
  });
  switch (outcome.action) {
    case 'pass':
      await outcome.body.dispose();
      return { action: 'pass' };
    case 'replace':
      // A relayed message is delivered as sent or not at all: a service that wants it changed
      // found something in it.
      await outcome.body.dispose();
      await outcome.message.body?.dispose();
      return { action: 'block', reason: 'the scanning service changed the message' };
    case 'block':
      await outcome.page?.body?.dispose();
      return { action: 'block', reason: outcome.verdict.reason ?? outcome.verdict.violations.join(', ') };
    case 'unavailable':
      throw outcome.error;
    case 'oversize':
      outcome.spool.destroy();
      if (limits.oversizeAction === 'pass') return { action: 'pass' };
      return { action: 'block', reason: 'larger than scan.maxScanBytes' };
  }
}

function sideOf(direction: WebSocketMessage['direction']): Direction {
  return direction === 'client-to-server' ? 'upload' : 'download';
}
