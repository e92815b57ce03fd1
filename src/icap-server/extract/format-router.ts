// The extractor for each sniffed format. Containers (archives, compressed files, mail, PDF) open
// their files one level deeper and only while the depth limit allows; past it the bytes are read
// as they are and `decode-limit:depth` says so. Text formats become text views for the detectors;
// pictures, audio and video, which are not decoded, are scanned as the bytes they are.
import type { ByteSink } from '../decode/byte-sink.js';
import { contentDecoder } from '../decode/content-decoder.js';
import type { Extraction } from '../decode/extraction.js';
import { charsetText, formUrlencodedText, jsonText, wideToUtf8 } from '../decode/text-decoders.js';
import { bzip2Decoder } from './bzip2-decoder.js';
import { cfbScanner } from './cfb-scanner.js';
import { embeddedZipWatcher } from './embedded-zip.js';
import { htmlText } from './html-text.js';
import { mailReader } from './mail-reader.js';
import { pdfReader } from './pdf-reader.js';
import { rtfText } from './rtf-text.js';
import { charsetOf, type FileInfo, type Format, mediaType } from './sniff.js';
import { tarReader } from './tar-reader.js';
import { xmlText } from './xml-text.js';
import { xzDecoder } from './xz-decoder.js';
import { zipReader } from './zip-reader.js';

function both(a: ByteSink, b: ByteSink): ByteSink {
  return {
    async write(chunk) {
      await a.write(chunk);
      await b.write(chunk);
    },
    async end() {
      await a.end();
      await b.end();
    },
  };
}

/** The name a compressed file had before `.gz`/`.bz2`/`.xz` (`report.tar.gz` → `report.tar`). */
function inner(name: string | undefined, extensions: RegExp): FileInfo {
  return name === undefined ? {} : { name: name.replace(extensions, (ext) => (ext.startsWith('.t') ? '.tar' : '')) };
}

export function openFormat(format: Format, ctx: Extraction, info: FileInfo, depth: number): ByteSink {
  const raw = () => charsetText(ctx.text(depth), charsetOf(info.contentType));
  switch (format) {
    case 'zip':
      return ctx.mayOpen(depth) ? zipReader(ctx, depth) : raw();
    case 'tar':
      return ctx.mayOpen(depth) ? tarReader(ctx, depth) : raw();
    case 'gzip':
      return ctx.mayOpen(depth) ? contentDecoder('gzip', ctx.file(inner(info.name, /\.(?:gz|tgz)$/i), depth + 1), ctx.budget, { sink: ctx.leftover(depth), undecodedToDownstream: false }) : raw();
    case 'pdf':
      return ctx.mayOpen(depth) ? pdfReader(ctx, depth) : raw();
    case 'bzip2':
      return ctx.mayOpen(depth) ? bzip2Decoder(ctx.file(inner(info.name, /\.(?:bz2|tbz2?)$/i), depth + 1), ctx.budget, ctx.leftover(depth)) : raw();
    case 'xz':
      return ctx.mayOpen(depth) ? xzDecoder(ctx.file(inner(info.name, /\.(?:xz|txz)$/i), depth + 1), ctx.budget, ctx.leftover(depth)) : raw();
    case 'mail':
      return ctx.mayOpen(depth) ? mailReader(ctx, depth) : raw();
    case 'cfb':
      // Legacy Office files (.doc, .xls, .msg) keep their text as 8-bit code page or UTF-16LE
      // runs inside their streams: both views are read.
      return cfbScanner(ctx, both(embeddedZipWatcher(ctx, depth, raw()), wideToUtf8('utf-16le', charsetText(ctx.text(depth), 'utf-8'))));
    case 'encrypted':
      // An armored or age message is still read as it stands: its header is a line anyone can
      // type in front of plain text, and ciphertext finds nothing.
      ctx.encrypted();
      return ctx.leftover(depth);
    case 'utf-16le':
    case 'utf-16be':
    case 'utf-32le':
    case 'utf-32be': {
      // A view, not a container: the UTF-8 text is sniffed again at the same depth.
      const type = mediaType(info.contentType);
      return wideToUtf8(format, ctx.file({ name: info.name, contentType: type === '' ? undefined : `${type}; charset=utf-8` }, depth));
    }
    case 'rtf':
      return rtfText(ctx.text(depth));
    case 'html':
      return htmlText(ctx.text(depth));
    case 'xml':
      return xmlText(ctx.text(depth));
    case 'json':
      return jsonText(ctx.text(depth));
    case 'form':
      return formUrlencodedText(ctx.text(depth));
    case 'text':
      return embeddedZipWatcher(ctx, depth, raw());
    case 'media':
      // Pictures, audio and video are not decoded, so their bytes are scanned as they stand: a
      // magic number is four bytes anyone can type in front of a text. Its head went to the head
      // probes; a zip appended to a picture is still found.
      return embeddedZipWatcher(ctx, depth, ctx.leftover(depth));
  }
}
