// `{{name}}` templates, split once into literal and placeholder parts. Every value is HTML-escaped
// at render (OWASP: & < > " ' ); a placeholder with no value renders empty.
export type Template = (values: Record<string, string>) => string;

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/;

export function compileTemplate(text: string): Template {
  // split() with one capture group alternates literal, name, literal, ...
  const parts = text.split(new RegExp(PLACEHOLDER.source, 'g'));
  return (values) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) out += i % 2 === 0 ? parts[i]! : escapeHtml(values[parts[i]!] ?? '');
    return out;
  };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
