// Text formats as real writers produce them: RTF (RFC-less, Microsoft RTF 1.9.1) with groups,
// control words, \'hh escapes and \uN; HTML with tags inside sentences and character references;
// mail (RFC 5322, RFC 2045-2047) with quoted-printable and base64 parts and an attachment; JSON
// carrying a file in base64 and a data: URL (RFC 2397); UTF-16 with and without a BOM.

/** RTF: each paragraph a \par, every few words in a {\b …} group, non-ASCII as \'hh or \uN?. */
export function rtf(paragraphs: readonly string[]): Buffer {
  const escape = (text: string) =>
    [...text]
      .map((c) => {
        const code = c.codePointAt(0) as number;
        if (c === '\\' || c === '{' || c === '}') return `\\${c}`;
        if (code < 0x80) return c;
        if (code < 0x100) return `\\'${code.toString(16).padStart(2, '0')}`;
        return `\\u${code > 0x7fff ? code - 0x10000 : code}?`;
      })
      .join('');
  const body = paragraphs
    .map((p) => {
      const words = p.split(' ');
      // Bold every fifth word in its own group, the way Word writes character formatting.
      return `\\pard\\plain\\f0\\fs22 ${words.map((w, i) => (i % 5 === 3 ? `{\\b ${escape(w)}}` : escape(w))).join(' ').replace(/\n/g, '\\line ')}\\par\n`;
    })
    .join('');
  return Buffer.from(`{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss Calibri;}}{\\*\\generator Riched20 10.0.19041}\\viewkind4\\uc1\n${body}}\n`, 'latin1');
}

const entity = (c: string) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string;

/**
 * HTML as a mail client or an editor writes it: a sentence broken by inline tags, spaces between
 * digit groups as &nbsp; or &#32;, and some letters as character references.
 */
export function html(paragraphs: readonly string[], title = 'Notes'): Buffer {
  const para = (p: string, i: number) => {
    const words = p.split(' ').map((w, k) => {
      const encoded = w.replace(/[&<>"]/g, entity);
      return k % 3 === 1 ? encoded.replace(/e/g, '&#101;') : encoded;
    });
    // An inline tag around a few words in the middle, as formatting leaves it.
    const from = Math.floor(words.length / 3);
    if (words.length > 4) {
      words[from] = `<span style="color:#333">${words[from]}`;
      words[from + 1] = `${words[from + 1]}</span>`;
    }
    let out = words[0] ?? '';
    for (let k = 1; k < words.length; k++) out += (k % 4 === 2 ? '&nbsp;' : k % 7 === 3 ? '&#32;' : ' ') + words[k];
    out = out.replace(/\n/g, '<br>\n');
    return i % 2 === 0 ? `<p>${out}</p>` : `<div class="x"><font face="Arial">${out}</font></div>`;
  };
  return Buffer.from(
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title><style>p{margin:0}</style><script>var t = "4111 1111 1111 1111".length;</script></head>\n<body>\n${paragraphs.map(para).join('\n')}\n</body></html>\n`,
    'utf8',
  );
}

/** Quoted-printable (RFC 2045 §6.7): lines of at most 76 characters, soft breaks with "=". */
export function quotedPrintable(text: string): string {
  const bytes = Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8');
  const lines: string[] = [];
  let line = '';
  const push = (piece: string) => {
    if (line.length + piece.length > 75) {
      lines.push(`${line}=`);
      line = '';
    }
    line += piece;
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === 0x0d && bytes[i + 1] === 0x0a) {
      lines.push(line);
      line = '';
      i++;
    } else if ((b >= 33 && b <= 126 && b !== 61) || (b === 32 && bytes[i + 1] !== 0x0d && i + 1 < bytes.length)) push(String.fromCharCode(b));
    else push(`=${b.toString(16).toUpperCase().padStart(2, '0')}`);
  }
  lines.push(line);
  return lines.join('\r\n');
}

const base64Lines = (data: Buffer) => (data.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');

export interface MailAttachment {
  name: string;
  type: string;
  data: Buffer;
}

/** A multipart/mixed mail: a multipart/alternative body (text quoted-printable, HTML base64) and attachments in base64. */
export function eml(subject: string, text: string, attachments: readonly MailAttachment[] = []): Buffer {
  const outer = '----=_Part_1_2094';
  const inner = '----=_Alt_7731';
  const htmlBody = `<html><body><p>${text.replace(/[&<>"]/g, entity).replace(/\n/g, '<br>')}</p></body></html>`;
  const parts = [
    `--${outer}\r\nContent-Type: multipart/alternative; boundary="${inner}"\r\n\r\n` +
      `--${inner}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${quotedPrintable(text)}\r\n` +
      `--${inner}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(Buffer.from(htmlBody))}\r\n--${inner}--\r\n`,
    ...attachments.map((a) => `--${outer}\r\nContent-Type: ${a.type}; name="${a.name}"\r\nContent-Disposition: attachment; filename="${a.name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(a.data)}\r\n`),
  ];
  // RFC 2047 §4.1: a non-ASCII subject as an encoded-word.
  const encodedSubject = /^[\x20-\x7e]*$/.test(subject) ? subject : `=?UTF-8?B?${Buffer.from(subject).toString('base64')}?=`;
  const head = [
    'Return-Path: <jane.roe@corp-mail.net>',
    'Received: from mail.corp-mail.net (mail.corp-mail.net [192.0.2.25]) by mx.partner-firm.org with ESMTPS id 4VqR2x; Fri, 17 May 2024 10:22:31 +0000',
    'From: Jane Roe <jane.roe@corp-mail.net>',
    'To: John Doe <john.doe@partner-firm.org>',
    `Subject: ${encodedSubject}`,
    'Date: Fri, 17 May 2024 10:22:31 +0000',
    'Message-ID: <20240517102231.4711@corp-mail.net>',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${outer}"`,
  ].join('\r\n');
  return Buffer.from(`${head}\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n${parts.join('')}--${outer}--\r\n`, 'utf8');
}

/** A JSON API body carrying a file inline: base64 in a field, and the same as a data: URL. */
export function base64Json(file: { name: string; type: string; data: Buffer }, asDataUrl: boolean): Buffer {
  const b64 = file.data.toString('base64');
  const value = asDataUrl ? { url: `data:${file.type};base64,${b64}` } : { encoding: 'base64', content: b64 };
  return Buffer.from(JSON.stringify({ message: 'upload', attachment: { filename: file.name, contentType: file.type, ...value }, sentAt: '2024-05-17T10:22:31Z' }));
}

/** UTF-16 little endian with a BOM (Windows Notepad "Unicode"), or big endian without one. */
export function utf16(text: string, variant: 'le-bom' | 'be'): Buffer {
  const le = Buffer.from(text, 'utf16le');
  return variant === 'le-bom' ? Buffer.concat([Buffer.from([0xff, 0xfe]), le]) : Buffer.from(le).swap16();
}
