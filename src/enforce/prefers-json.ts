// Block and error pages come as HTML for people and JSON for programs. The rule: JSON when the
// client's Accept gives a JSON type (application/json, application/*+json) a higher quality than
// text/html (RFC 9110 §12.5.1, the most specific matching range decides each quality), or the same
// quality but named more specifically (axios: `application/json, text/plain, */*`); on a full tie
// (no Accept, `*/*`) JSON only when the request itself carried JSON, which browsers' form posts
// and navigations never do; HTML otherwise.

export function prefersJson(accept: string | undefined, requestContentType?: string): boolean {
  const ranges = parseAccept(accept ?? '*/*');
  const a = quality(ranges, 'application', 'json');
  const b = quality(ranges, 'application', 'problem+json');
  const json = b.q > a.q || (b.q === a.q && b.specificity > a.specificity) ? b : a;
  const html = quality(ranges, 'text', 'html');
  if (json.q !== html.q) return json.q > html.q;
  if (json.specificity !== html.specificity) return json.q > 0 && json.specificity > html.specificity;
  return json.q > 0 && requestContentType !== undefined && isJsonType(requestContentType);
}

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): Range[] {
  const out: Range[] = [];
  for (const item of header.split(',')) {
    const [media = '', ...params] = item.split(';');
    const [type = '', subtype = ''] = media.trim().toLowerCase().split('/');
    if (type === '' || subtype === '') continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q') q = Math.min(1, Math.max(0, Number(v) || 0));
    }
    out.push({ type, subtype, q });
  }
  return out;
}

/** Quality of type/subtype from the most specific range that matches it (q 0 if none does). */
function quality(ranges: Range[], type: string, subtype: string): { q: number; specificity: number } {
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    let specificity = -1;
    if (r.type === type && r.subtype === subtype) specificity = 3;
    else if (r.type === type && r.subtype.startsWith('*+') && subtype.endsWith(r.subtype.slice(1))) specificity = 2;
    else if (r.type === type && r.subtype === '*') specificity = 1;
    else if (r.type === '*' && r.subtype === '*') specificity = 0;
    if (specificity > best) {
      best = specificity;
      q = r.q;
    }
  }
  return { q, specificity: best };
}

function isJsonType(contentType: string): boolean {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}
