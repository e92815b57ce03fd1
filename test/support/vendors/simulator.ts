// A vendor's ICAP server as a script on the fake server (../fake-icap-server.ts): each vendor file
// says what its product answers (OPTIONS, clean, violation, monitor mode, encrypted, internal
// error) and what dlp-proxy must make of it; this file runs the script.
//
// Services, by URI path, so one simulator plays every configuration the suite needs:
//   req | resp            the vendor's REQMOD / RESPMOD service, Preview offered
//   …-np                  the same without Preview (every body sent whole)
//   …-mon                 the server's own monitor / trial mode (violations are let through)
//   …-mc1                 Max-Connections: 1 (overload by connection limit)
//   …-redact              a redaction rule (Symantec's "remove content"); others treat it as req
// What the server finds is decided from the body, as a scanner would: a card number or EICAR is a
// violation (by what the vendor looks for), a ZIP whose first entry is encrypted is unscannable,
// and three markers stand for what a test cannot otherwise provoke: SIM_ERROR (the server fails),
// SIM_OVERLOAD (503, RFC 3507 §4.3.3 "Service overloaded") and SIM_SLOW (an answer held until
// releaseSlow(), at most 10 s: a test decides when, not the machine's speed).
import type { ErrorCode } from '../../../src/core/errors.js';
import type { HeaderList, HttpHead } from '../../../src/core/types.js';
import type { FailClass, Vendor } from '../../../src/enforce/index.js';
import { encodeIcapResponse, encodeOptionsResponse } from '../../../src/icap/codec/index.js';
import { CARD } from '../enforcement-suite.js';
import { answers, startFakeIcapServer, type Action, type FakeIcapServer, type FakeRequest } from '../fake-icap-server.js';
import { EICAR } from '../origin.js';

export type Method = 'REQMOD' | 'RESPMOD';
export type Scenario = 'clean' | 'violation' | 'encrypted' | 'error';

export const SIM_ERROR = 'SIMULATE: the server fails';
export const SIM_OVERLOAD = 'SIMULATE: the server is overloaded';
export const SIM_SLOW = 'SIMULATE: a slow scan';
const SLOW_MAX_MS = 10_000;

export interface Turn {
  req: FakeRequest;
  method: Method;
  /** the encapsulated HTTP message as received: the request, and the response on RESPMOD */
  reqHead: HttpHead;
  resHead: HttpHead | undefined;
  body: Buffer;
  scenario: Scenario;
  /** the service is in the server's monitor / trial mode */
  monitorMode: boolean;
  /** the redaction service */
  redact: boolean;
}

/** What dlp-proxy must show for a block: the names in the log line and the reason on the page. */
export interface Blocked {
  block: { names: string[]; reason: string | RegExp };
}
/** Scanning unavailable: the 503 page's code, and the fail class (failModes.<class>) it takes. */
export interface Unavailable {
  unavailable: ErrorCode;
  failClass: FailClass;
}
/** The body passes; `names` when it passes as a monitored violation. */
export interface Passed {
  pass: { names?: string[] };
}
export type Outcome = Blocked | Unavailable | Passed;

export interface VendorScript {
  vendor: Vendor;
  product: string;
  /** what its scanner looks for in the violation case */
  finds: 'card' | 'eicar';
  methods: Method[];
  /** what the product sends in OPTIONS besides Methods, Preview, Allow, Max-Connections */
  options: { istag: string; headers: HeaderList; previewBytes: number; maxConnections: number };
  answer(turn: Turn): Action;
  /** dlp-proxy's outcome per scenario and method (a method not offered: ICAP_METHOD_NOT_SUPPORTED) */
  expect: {
    /** per method offered */
    violation: Partial<Record<Method, Blocked>>;
    /** the server's own monitor mode; absent when the product documents none */
    serverMonitor?: Record<Method, Passed>;
    encrypted: Outcome;
    error: Outcome;
  };
}

export interface VendorSimulator {
  script: VendorScript;
  server: FakeIcapServer;
  /** SIM_SLOW answers being held now (each holds its connection until releaseSlow()) */
  slowInFlight(): number;
  /** answer the SIM_SLOW requests held now */
  releaseSlow(): void;
  url(service: string): string;
  close(): Promise<void>;
}

/** The violation content this vendor's scanner finds. */
export function violationContent(script: VendorScript): string {
  return script.finds === 'card' ? `order notes; card ${CARD}; thanks` : EICAR;
}

/** A ZIP whose first entry is encrypted (APPNOTE 4.4.4: general purpose bit 0). */
export function encryptedZip(): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4); // version needed
  header.writeUInt16LE(0x0001, 6); // encrypted
  header.writeUInt16LE(8, 8); // deflate
  header.writeUInt32LE(64, 18);
  header.writeUInt32LE(64, 22);
  header.writeUInt16LE(10, 26);
  return Buffer.concat([header, Buffer.from('secret.pdf'), Buffer.alloc(64, 0x5a)]);
}

function isEncryptedZip(body: Buffer): boolean {
  const at = body.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
  return at >= 0 && at + 8 <= body.length && (body.readUInt16LE(at + 6) & 1) === 1;
}

function scenarioOf(body: Buffer, script: VendorScript): Scenario {
  const text = body.toString('latin1');
  if (text.includes(SIM_ERROR)) return 'error';
  if (isEncryptedZip(body)) return 'encrypted';
  return text.includes(script.finds === 'card' ? CARD : EICAR) ? 'violation' : 'clean';
}

/** ICAP 200 carrying an HTTP response (a block page, or a response to a REQMOD). */
export function page(status: number, reason: string, html: string | null, icapHeaders: HeaderList, httpHeaders: HeaderList = []): Buffer {
  const body = html === null ? null : Buffer.from(html, 'utf8');
  const head: HttpHead = {
    kind: 'response',
    status,
    reason,
    version: '1.1',
    headers: [['Content-Type', 'text/html; charset=utf-8'], ['Content-Length', String(body?.length ?? 0)], ...httpHeaders],
  };
  return answers.modified(head, body, icapHeaders);
}

/** An ICAP answer with no body (204, 500, 503…) and these headers. */
export function bare(status: number, headers: HeaderList): Buffer {
  return encodeIcapResponse({ status, headers, hasBody: false });
}

/**
 * X-Violations-Found as draft-stecher-icap-subid §3.3 sends it: obs-folded over tab-indented lines
 * (the fake server's encoder refuses CR/LF in values, so the fold is put in after encoding; the
 * Encapsulated offsets count from the end of the ICAP head and stay right).
 */
export function withFoldedViolations(answer: Buffer, groups: Array<[file: string, threat: string]>): Buffer {
  const folded = [String(groups.length), ...groups.flatMap(([file, threat]) => [file, threat, '0', '0'])].join('\r\n\t');
  const text = answer.toString('latin1').replace('X-Violations-Found: FOLD', `X-Violations-Found: ${folded}`);
  return Buffer.from(text, 'latin1');
}

/** A header value sent as UTF-8 bytes (the encoder writes latin1). */
export function utf8Value(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

export async function startVendorSimulator(script: VendorScript): Promise<VendorSimulator> {
  let slow = 0;
  const held: Array<() => void> = [];
  const server = await startFakeIcapServer({
    options: (req) => {
      const path = new URL(req.head.uri).pathname;
      const method: Method = path.startsWith('/resp') ? 'RESPMOD' : 'REQMOD';
      return {
        send: encodeOptionsResponse({
          // a product with one service per method (MetaDefender) lists that one; else all it offers
          methods: script.methods.includes(method) ? script.methods.filter((m) => m === method) : script.methods,
          istag: script.options.istag,
          allow204: true,
          optionsTtlSeconds: 3600,
          maxConnections: path.endsWith('-mc1') ? 1 : script.options.maxConnections,
          ...(path.endsWith('-np') ? {} : { preview: script.options.previewBytes }),
          headers: script.options.headers,
        }),
      };
    },
    onRequest: async (req) => {
      const path = new URL(req.head.uri).pathname;
      const method = req.head.method as Method;
      if (!script.methods.includes(method)) return { send: bare(405, [['ISTag', script.options.istag]]) };
      const text = req.body.toString('latin1');
      if (text.includes(SIM_OVERLOAD)) return { send: bare(503, [['ISTag', script.options.istag]]) };
      const reqHead = req.http[0]!;
      const turn: Turn = {
        req,
        method,
        reqHead,
        resHead: req.http[1],
        body: req.body,
        scenario: scenarioOf(req.body, script),
        monitorMode: path.endsWith('-mon'),
        redact: path.endsWith('-redact'),
      };
      const action = script.answer(turn);
      if (!text.includes(SIM_SLOW) || !('send' in action)) return action;
      slow++;
      await new Promise<void>((resolve) => {
        held.push(resolve);
        setTimeout(resolve, SLOW_MAX_MS).unref();
      });
      slow--;
      return action;
    },
  });
  const releaseSlow = () => {
    for (const release of held.splice(0)) release();
  };
  return {
    script,
    server,
    slowInFlight: () => slow,
    releaseSlow,
    url: (service) => server.url(service),
    close: () => {
      releaseSlow();
      return server.close();
    },
  };
}
