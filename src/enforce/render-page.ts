// The pages the proxy answers with instead of the origin: block (403), unavailable (503: scanning
// could not run and, failing closed, nothing was sent) and error (the proxy's own 502/504...).
// HTML from {{name}} templates (every value HTML-escaped, templates read once: the bundled ones at
// import, an operator's override by configurePages() at start) or JSON (see prefers-json.ts).
// Never internal error text: only the status, the stable code and the host reach the client.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProxyError } from '../core/errors.js';
import type { Direction } from '../core/types.js';
import { prefersJson } from './prefers-json.js';
import { compileTemplate, type Template } from './template.js';
import { splitViolation, violationNames } from '../core/violations.js';
import { plainViolation } from './violation-names.js';

export interface BlockPageFields {
  host: string;
  direction: Direction;
  incidentId: string;
  violations: string[];
  reason?: string;
  rule?: string;
  time?: Date;
}

export interface UnavailablePageFields {
  host?: string;
  direction?: Direction;
  incidentId?: string;
  code?: string;
  status?: number;
  time?: Date;
}

export interface ErrorPageFields {
  status: number;
  code: string;
  host?: string;
  incidentId?: string;
  time?: Date;
}

export interface PageFields {
  block: BlockPageFields;
  unavailable: UnavailablePageFields;
  error: ErrorPageFields;
}

export type PageKind = keyof PageFields;

export interface RenderedPage {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Hints beyond Accept for choosing JSON: the request's own content type. */
export interface PageHints {
  requestContentType?: string;
}

const DEFAULT_BLOCK_TEMPLATE = 'config/block-page.html';
// src/enforce → ../../config when run from sources; dist/src/enforce → ../../../config when built.
const here = path.dirname(fileURLToPath(import.meta.url));
const bundledDirs = [path.resolve(here, '../../config'), path.resolve(here, '../../../config')];

async function readBundled(name: string): Promise<string> {
  for (const dir of bundledDirs) {
    try {
      return await fs.readFile(path.join(dir, name), 'utf8');
    } catch {
      /* try the next layout */
    }
  }
  throw new ProxyError('CONFIG_INVALID', `bundled template ${name} not found in ${bundledDirs.join(' or ')}`);
}

/**
 * A block template in two forms: as written, and with its incident link (the `<a
 * id="incident-link" ...>` around the number) unwrapped, for when no admin page can open an
 * incident. Templates have no conditionals, and a link that leads nowhere is worse than none.
 */
interface BlockTemplates {
  linked: Template;
  unlinked: Template;
}

function compileBlock(text: string): BlockTemplates {
  return { linked: compileTemplate(text), unlinked: compileTemplate(text.replace(/<a id="incident-link"[^>]*>([\s\S]*?)<\/a>/, '$1')) };
}

const settings: { block: BlockTemplates; error: Template; contact: string; incidentBase: string | undefined } = {
  block: compileBlock(await readBundled('block-page.html')),
  error: compileTemplate(await readBundled('error-page.html')),
  contact: 'your IT helpdesk',
  incidentBase: undefined,
};

/**
 * Link the block page's incident number to the admin listener's incident page, `<base><id>`
 * (admin/incidentLinkBase, once the admin listener's address is known), or undefined for none.
 */
export function linkIncidents(base: string | undefined): void {
  settings.incidentBase = base;
}

/** Apply config.blockPage at start: the contact line, and the operator's template if it names one. */
export async function configurePages(blockPage: { template: string; contact: string }): Promise<void> {
  settings.contact = blockPage.contact;
  const file = path.resolve(blockPage.template);
  try {
    settings.block = compileBlock(await fs.readFile(file, 'utf8'));
  } catch (err) {
    if (blockPage.template !== DEFAULT_BLOCK_TEMPLATE) {
      throw new ProxyError('CONFIG_INVALID', `blockPage.template: cannot read ${file}`, { cause: err });
    }
    settings.block = compileBlock(await readBundled('block-page.html'));
  }
}

export function renderPage<K extends PageKind>(kind: K, fields: PageFields[K], accept: string | undefined, hints: PageHints = {}): RenderedPage {
  const json = prefersJson(accept, hints.requestContentType);
  const content = kind === 'block' ? blockContent(fields as BlockPageFields) : kind === 'unavailable' ? unavailableContent(fields as UnavailablePageFields) : errorContent(fields as ErrorPageFields);
  const template = kind !== 'block' ? settings.error : settings.incidentBase === undefined ? settings.block.unlinked : settings.block.linked;
  const body = Buffer.from(json ? JSON.stringify(content.json) : template(content.html), 'utf8');
  const headers: Record<string, string> = {
    'content-type': json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
  // The page loads nothing: inline style only, no script, no images, no frames.
  if (!json) headers['content-security-policy'] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
  const incidentId = (fields as { incidentId?: string }).incidentId;
  if (incidentId !== undefined) headers['x-dlp-incident'] = incidentId;
  return { status: content.status, headers, body };
}

interface Content {
  status: number;
  html: Record<string, string>;
  json: Record<string, unknown>;
}

function blockContent(f: BlockPageFields): Content {
  const upload = f.direction === 'upload';
  const headline = upload ? `Your upload to ${f.host} was blocked` : `Your download from ${f.host} was blocked`;
  const explanation = upload
    ? 'It contains information that your organisation does not allow to be sent to this website.'
    : 'The security check found something harmful or not allowed in what you were downloading.';
  const detected = f.violations.length > 0 ? [...new Set(f.violations.map(shownViolation))].join(', ') : (f.reason ?? 'a policy violation');
  const { counts } = violationNames(f.violations);
  const time = (f.time ?? new Date()).toUTCString();
  const incidentUrl = settings.incidentBase === undefined ? undefined : `${settings.incidentBase}${encodeURIComponent(f.incidentId)}`;
  return {
    status: 403,
    html: {
      title: headline,
      headline,
      explanation,
      sentOrReceived: upload ? 'sent' : 'downloaded',
      contact: settings.contact,
      incidentId: f.incidentId,
      incidentUrl: incidentUrl ?? '',
      host: f.host,
      violations: detected,
      reason: f.reason ?? '',
      time,
      rule: f.rule ?? '—',
    },
    json: { error: 'blocked', message: headline, reason: f.reason ?? null, violations: f.violations, ...(Object.keys(counts).length > 0 ? { counts } : {}), host: f.host, direction: f.direction, incidentId: f.incidentId, ...(incidentUrl ? { incidentUrl } : {}), rule: f.rule ?? null, time, contact: settings.contact },
  };
}

/** "a payment card number ×3" for `payment-card x3`; names without a count as plainViolation() says them. */
function shownViolation(violation: string): string {
  const { name, count } = splitViolation(violation);
  return count === undefined ? plainViolation(name) : `${plainViolation(name)} ×${count}`;
}

function unavailableContent(f: UnavailablePageFields): Content {
  const host = f.host ?? 'the website';
  const headline =
    f.direction === 'upload' ? `Your upload to ${host} could not be checked` : f.direction === 'download' ? `Your download from ${host} could not be checked` : `Your request to ${host} could not be checked`;
  const message = `The security scanning service was unavailable, so nothing was ${f.direction === 'download' ? 'delivered' : 'sent'}. Please try again in a few minutes.`;
  const time = (f.time ?? new Date()).toUTCString();
  return {
    status: 503,
    html: { title: headline, headline, message, contact: settings.contact, host, reference: f.incidentId ?? f.code ?? '—', status: '503', time },
    json: { error: 'scan_unavailable', message, host: f.host ?? null, incidentId: f.incidentId ?? null, code: f.code ?? null, time },
  };
}

function errorContent(f: ErrorPageFields): Content {
  const status = Number.isInteger(f.status) && f.status >= 400 && f.status <= 599 ? f.status : 502;
  const host = f.host ?? 'the website';
  const headline = errorHeadline(f.code, status, host);
  const message = status >= 500 ? 'The proxy could not get an answer for you. Please check the address and try again in a moment.' : 'The proxy could not process this request.';
  const time = (f.time ?? new Date()).toUTCString();
  return {
    status,
    html: { title: headline, headline, message, contact: settings.contact, host, reference: f.incidentId ?? f.code, status: String(status), time },
    json: { error: f.code, status, message: headline, host: f.host ?? null, time },
  };
}

function errorHeadline(code: string, status: number, host: string): string {
  if (code === 'UPSTREAM_DNS_FAILED') return `The address of ${host} could not be found`;
  if (code === 'UPSTREAM_TLS_FAILED') return `A secure connection to ${host} could not be established`;
  if (code === 'UPSTREAM_DESTINATION_FORBIDDEN') return `${host} cannot be reached through this proxy`;
  if (code === 'CLIENT_LOOP_DETECTED') return 'This request came back to the proxy it passed through (a forwarding loop)';
  if (code === 'CLIENT_TOO_MANY_HEADERS') return 'The request has too many header fields';
  if (code === 'CLIENT_TOO_MANY_CONNECTIONS') return 'Too many connections from this computer at once: try again in a moment';
  if (status === 504 || code.endsWith('_TIMEOUT')) return `${host} took too long to answer`;
  if (status >= 500) return `${host} could not be reached`;
  return 'The request could not be processed';
}
