// E-mail notifications of violations: each incident goes to the routes of alerts.email.rules that
// match it, at once (one mail per incident) or in a digest (one mail per route every digestMinutes
// listing the period's incidents; no mail for an empty period). notify() only matches and queues:
// every mail goes out later through one EmailSender, so traffic never waits for SMTP. queueSize
// bounds the incidents held (in open digests and queued mails); past it an incident is dropped and
// counted. close() sends the open digests, gives the queue one attempt's time, then cuts.
//
// In cluster mode this runs once, in the primary, fed with the workers' violations over IPC, so
// each incident is mailed once whatever worker saw it.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { ProxyError } from '../core/errors.js';
import { events } from '../core/events.js';
import { isViolation, violationFields } from '../log/violation-fields.js';
import { composeDigest, composeIncident } from './email-message.js';
import { compileRoute, type EmailIncident, type EmailRoute, type EmailRouteConfig } from './email-routes.js';
import { EmailSender, publishEmailOutcome, type EmailFailure, type QueuedMail } from './email-sender.js';
import { createSmtpTransport, type MailTransport } from './email-transport.js';

export interface EmailAlertsConfig {
  smtp: {
    host: string;
    /** default: 587 for starttls, 465 for implicit, 25 for none */
    port?: number | undefined;
    tls: 'starttls' | 'implicit' | 'none';
    servername?: string | undefined;
    user?: string | undefined;
    pass?: string | undefined;
    /** a file holding the password (its first line), read once at start */
    passFile?: string | undefined;
    /** PEM file trusted for the SMTP server besides the system roots */
    caFile?: string | undefined;
  };
  from: string;
  rules: readonly EmailRouteConfig[];
  queueSize: number;
  retries: number;
  retryBackoffMs: number;
  timeoutMs: number;
}

export interface EmailStats {
  /** mails waiting to be sent */
  queued: number;
  /** incidents in open digests and queued mails (at most queueSize) */
  held: number;
  sent: number;
  failed: number;
}

export interface EmailAlerts {
  /** Route one incident (O(routes), no I/O). */
  notify(incident: EmailIncident): void;
  stats(): EmailStats;
  /** Stop the digests, send what they hold, wait up to timeoutMs for the queue, then cut. */
  close(): Promise<void>;
}

export interface EmailAlertsOptions {
  /** the incident page's address without the id (incidentPageBase), when the admin listener has a public URL */
  incidentUrlBase?: string | undefined;
  /** the mail hop; SMTP from config.smtp when absent (tests pass a fake) */
  transport?: MailTransport;
  /** each failed attempt, for the operator's log */
  onFailure?: (failure: EmailFailure) => void;
}

/**
 * The e-mail alerts of a whole config (alerts.email, with the incident link from admin.publicUrl
 * and failures logged), or undefined when it has none: what the app and the cluster primary run.
 */
export function openEmailAlerts(config: { alerts: { email?: EmailAlertsConfig | undefined }; admin: { publicUrl?: string | undefined } }, logger: Logger): Promise<EmailAlerts | undefined> {
  const email = config.alerts.email;
  return email ? startEmailAlerts(email, { incidentUrlBase: incidentPageBase(config), onFailure: logEmailFailure(logger) }) : Promise.resolve(undefined);
}

/** Where the admin listener serves an incident's page (admin.publicUrl + /incidents/<id>). */
export function incidentPageBase(config: { admin: { publicUrl?: string | undefined } }): string | undefined {
  const origin = config.admin.publicUrl;
  return origin === undefined ? undefined : `${origin.replace(/\/+$/, '')}/incidents/`;
}

/** The operator hears of a mail given up at warn, of an attempt that will be retried at debug. */
export function logEmailFailure(logger: Logger): (failure: EmailFailure) => void {
  return ({ route, attempt, final, error }) =>
    logger[final ? 'warn' : 'debug'](
      { log: 'alerts', channel: 'email', emailRule: route, attempt, code: error.errorCode, responseCode: error.responseCode || undefined, err: error.message },
      final ? 'alert mail given up' : 'alert mail attempt failed: retrying',
    );
}

const DEFAULT_PORT = { starttls: 587, implicit: 465, none: 25 } as const;

interface Digest {
  route: EmailRoute;
  incidents: EmailIncident[];
  omitted: number;
  since: Date;
}

export async function startEmailAlerts(config: EmailAlertsConfig, options: EmailAlertsOptions = {}): Promise<EmailAlerts> {
  const transport = options.transport ?? (await smtpTransport(config));
  const routes = config.rules.map(compileRoute);
  const linkBase = options.incidentUrlBase;
  let held = 0;
  const sender = new EmailSender({
    transport,
    retries: config.retries,
    retryBackoffMs: config.retryBackoffMs,
    timeoutMs: config.timeoutMs,
    settled: (mail) => (held -= mail.incidents),
    onFailure: options.onFailure,
  });
  const digests = new Map<EmailRoute, Digest>();
  const timers: NodeJS.Timeout[] = [];
  for (const route of routes) {
    if (route.config.mode !== 'digest') continue;
    const digest: Digest = { route, incidents: [], omitted: 0, since: new Date() };
    digests.set(route, digest);
    const timer = setInterval(() => sendDigest(digest), route.config.digestMinutes * 60_000);
    timer.unref();
    timers.push(timer);
  }

  function sendDigest(digest: Digest): void {
    const to = new Date();
    const { incidents, omitted, since } = digest;
    digest.incidents = [];
    digest.omitted = 0;
    digest.since = to;
    if (incidents.length === 0) return;
    const mail: QueuedMail = {
      route: digest.route.config.name,
      incidents: incidents.length,
      compose: () => ({ to: digest.route.config.to, ...composeDigest({ incidents, omitted, from: since, to }, linkBase) }),
    };
    sender.enqueue(mail);
  }

  let closing: Promise<void> | undefined;
  return {
    notify(incident) {
      for (const route of routes) {
        if (!route.matches(incident)) continue;
        const name = route.config.name;
        const digest = digests.get(route);
        if (held >= config.queueSize || closing) {
          if (digest) digest.omitted++;
          publishEmailOutcome({ route: name, outcome: 'dropped', incidents: 1 });
          continue;
        }
        held++;
        if (digest) {
          digest.incidents.push(incident);
          continue;
        }
        sender.enqueue({
          route: name,
          incidents: 1,
          compose: () => ({ to: route.config.to, headers: { 'X-DLP-Incident': incident.incident }, ...composeIncident(incident, linkBase) }),
        });
      }
    },
    stats: () => ({ queued: sender.queued, held, ...sender.counts() }),
    close() {
      return (closing ??= (async () => {
        for (const timer of timers) clearInterval(timer);
        for (const digest of digests.values()) sendDigest(digest);
        await sender.close(config.timeoutMs);
      })());
    },
  };
}

async function smtpTransport(config: EmailAlertsConfig): Promise<MailTransport> {
  const { smtp } = config;
  const read = async (key: string, file: string) => {
    try {
      return await fs.readFile(path.resolve(file), 'utf8');
    } catch (err) {
      throw new ProxyError('CONFIG_INVALID', `alerts.email.smtp.${key}: cannot read ${path.resolve(file)}`, { cause: err });
    }
  };
  const pass = smtp.passFile !== undefined ? (await read('passFile', smtp.passFile)).split(/\r?\n/)[0] : smtp.pass;
  const ca = smtp.caFile !== undefined ? await read('caFile', smtp.caFile) : undefined;
  return createSmtpTransport({
    host: smtp.host,
    port: smtp.port ?? DEFAULT_PORT[smtp.tls],
    tls: smtp.tls,
    servername: smtp.servername,
    user: smtp.user,
    pass,
    ca,
    from: config.from,
    timeoutMs: config.timeoutMs,
  });
}

/** Mail every violation this process sees (single process; a cluster worker forwards them instead). */
export function mailViolations(email: EmailAlerts): () => void {
  return events.verdict.subscribe((event) => {
    if (isViolation(event)) email.notify(violationFields(event));
  });
}
