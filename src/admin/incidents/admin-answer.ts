// What a route of the admin listener answers: a status, a content type and a body, written by
// AdminServer with no-store and nosniff. A streamed body (an export) is an async iterable of text
// chunks, written with backpressure.
export interface AdminAnswer {
  status: number;
  type: string;
  body: string | Buffer | AsyncIterable<string>;
  headers?: Record<string, string | string[]>;
}

export function textAnswer(status: number, body: string, headers?: Record<string, string | string[]>): AdminAnswer {
  return { status, type: 'text/plain; charset=utf-8', body, ...(headers ? { headers } : {}) };
}

export function jsonAnswer(status: number, value: unknown, headers?: Record<string, string | string[]>): AdminAnswer {
  return { status, type: 'application/json; charset=utf-8', body: `${JSON.stringify(value, null, 2)}\n`, ...(headers ? { headers } : {}) };
}

/** RFC 9110 §15.4.4: after a POST, 303 makes the browser GET the target. */
export function seeOther(location: string, headers: Record<string, string | string[]> = {}): AdminAnswer {
  return { status: 303, type: 'text/plain; charset=utf-8', body: `see ${location}\n`, headers: { ...headers, location } };
}
