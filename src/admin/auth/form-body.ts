// The body of a form POST (application/x-www-form-urlencoded, WHATWG URL §5), read whole but
// never more than `maxBytes`: a sign-in form is a few hundred bytes, so anything larger is refused
// before it is buffered.
import type http from 'node:http';

export type FormBody = { ok: true; form: URLSearchParams } | { ok: false; status: 400 | 413 | 415; reason: string };

export async function readForm(req: http.IncomingMessage, maxBytes = 8192): Promise<FormBody> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    return { ok: false, status: 415, reason: 'a form (application/x-www-form-urlencoded) is expected' };
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    return { ok: false, status: 413, reason: `a form of at most ${maxBytes} bytes is expected` };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        req.resume();
        return { ok: false, status: 413, reason: `a form of at most ${maxBytes} bytes is expected` };
      }
      chunks.push(chunk);
    }
  } catch {
    return { ok: false, status: 400, reason: 'the form could not be read' };
  }
  return { ok: true, form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) };
}
