// The labelled documents of the corpus, independent of format: positives carry one secret each in
// ordinary prose (or a real table) and name the violation it must raise; negatives are what real
// traffic is full of and must raise none. formats.ts renders each document in every format.
import { EICAR } from '../../src/icap-server/detectors/eicar.js';
import type { Cell } from './writers/office-writers.js';
import * as s from './secrets.js';
import type { Rand } from './secrets.js';

export interface Doc {
  /** kind and index, e.g. `payment-card-1` */
  id: string;
  kind: string;
  /** violation names it must raise (none for a negative) */
  expected: string[];
  service: 'dlp' | 'av';
  paragraphs: string[];
  /** a table (exports, sheets); text formats write it as TSV or CSV */
  table?: Cell[][];
  /** a file carried as it is (the EICAR test file): containers hold it, text formats cannot */
  file?: { name: string; data: Buffer };
}

const FILLER = [
  'Thanks for the quick turnaround on the quarterly numbers.',
  'The steering committee meets again on Thursday at 10:30 in room 4.12.',
  'Revenue grew 12 percent across all regions while costs stayed flat.',
  'Let me know if anything in the draft needs another pass before Friday.',
  'We moved the vendor review to next sprint because of the holidays.',
  'Attached are the notes from yesterday; the action items are at the end.',
  'Shipping for order 2024-117 left the warehouse on 17 May with 3 pallets.',
  'The new office in Lyon opens on 1 July, with 45 desks on two floors.',
  'Please keep the budget under 12,500 EUR for the offsite in September.',
  'Our support queue dropped to 37 open tickets after the release.',
];

const filler = (rand: Rand, n: number) => Array.from({ length: n }, () => s.pick(rand, FILLER));

/** A paragraph of filler with the secret sentence in the middle. */
function prose(rand: Rand, secret: string): string[] {
  return [filler(rand, 2).join(' '), `${s.pick(rand, ['Hi team,', 'Hello Sam,', 'Quick update:', 'FYI -'])} ${secret}`, filler(rand, 3).join(' ')];
}

/** The data sets the corpus config registers: EDM records and a confidential memo (written by generate-corpus.ts). */
export interface CorpusData {
  /** header row, then one row per customer */
  customers: string[][];
  memo: string[];
}

export const MEMO = [
  'Project Heron: board memo on the proposed acquisition of Calder Instruments, strictly confidential.',
  'The board is asked to approve an offer of 41 euros per share, a premium of 28 percent over the six-month average price.',
  'Financing comes from the revolving facility and a bridge loan arranged with two banks; combined leverage stays under three times earnings.',
  'Integration would close the Leeds plant within eighteen months and move its production to Eindhoven, with about 140 roles affected.',
  'Calder brings the optical sensor line that our roadmap lacks, and its service contracts with three of our largest customers.',
  'Due diligence found two open warranty claims in Germany and a pension shortfall of 11 million that the price already reflects.',
  'The works council in Eindhoven must be consulted before signing; the timetable assumes its opinion by the end of the quarter.',
  'Until the announcement only the deal team and the named advisers may discuss the transaction; any leak must be reported to legal at once.',
];

export function corpusData(seed: number): CorpusData {
  const rand = s.seeded(seed ^ 0x5eed);
  const customers: string[][] = [['name', 'email', 'account', 'city']];
  for (let i = 0; i < 40; i++) {
    const p = s.person(rand);
    customers.push([`${p.first} ${p.last}`, `${p.first}.${p.last}.${100 + i}@clients-portal.net`.toLowerCase(), s.digits(rand, 8), s.pick(rand, ['London', 'Paris', 'Berlin', 'Madrid', 'Leeds'])]);
  }
  return { customers, memo: MEMO };
}

type Builder = (rand: Rand, i: number, data: CorpusData) => { expected: string[]; paragraphs: string[]; service?: 'av'; file?: Doc['file']; table?: Cell[][] };

export const CUSTOM_KEYWORD_RULE = { name: 'classified', words: ['TOP-SECRET', 'Project Falcon'] };

const POSITIVES: Record<string, Builder> = {
  'payment-card': (rand, i) => {
    const c = s.card(rand);
    const sentences = [
      `please charge my ${c.brand} card ${c.printed}, expiry ${c.expiry}, for the renewal.`,
      `I paid the invoice with card number ${c.digits} yesterday, can you confirm?`,
      `the corporate card is ${c.printed} (exp ${c.expiry}); use it for the hotel only.`,
      `my credit card ${c.printed} was declined at checkout, could you retry?`,
    ];
    return { expected: ['payment-card'], paragraphs: prose(rand, sentences[i % sentences.length] as string) };
  },
  'payment-card-table': (rand) => {
    const rows: Cell[][] = [['Customer', 'Card Number', 'Expiry', 'Amount']];
    for (let r = 0; r < 12; r++) {
      const p = s.person(rand);
      const c = s.card(rand);
      rows.push([`${p.first} ${p.last}`, c.digits, c.expiry, Math.round(rand() * 50000) / 100]);
    }
    return { expected: ['payment-card'], paragraphs: [], table: rows };
  },
  'us-ssn': (rand, i) => {
    const v = s.ssn(rand);
    const sentences = [`my SSN is ${v} in case payroll needs it.`, `Social Security number: ${v} (new hire, starts Monday).`, `the employee's social security number ${v} was updated in the HR system.`];
    return { expected: ['us-ssn'], paragraphs: prose(rand, sentences[i % sentences.length] as string) };
  },
  iban: (rand, i) => {
    const v = s.iban(rand);
    const sentences = [`please wire the deposit to IBAN ${v.printed} by Friday.`, `the supplier changed bank account, new IBAN: ${v.compact}.`, `Überweisung bitte an ${v.printed}, Verwendungszweck Rechnung 2024-117.`];
    return { expected: ['iban'], paragraphs: prose(rand, sentences[i % sentences.length] as string) };
  },
  'uk-nino': (rand, i) => {
    const v = s.nino(rand);
    const sentences = [`my National Insurance number is ${v.spaced}, for the pension form.`, `NI number: ${v.compact} (starter checklist attached).`];
    return { expected: ['uk-nino'], paragraphs: prose(rand, sentences[i % sentences.length] as string) };
  },
  'eu-vat': (rand, i) => {
    const v = s.vat(rand);
    const sentences = [`our VAT number is ${v.compact}, please put it on the invoice.`, `USt-IdNr. ${v.printed} für die Rechnung.`];
    return { expected: ['eu-vat'], paragraphs: prose(rand, sentences[i % sentences.length] as string) };
  },
  'email-address-bulk': (rand) => ({ expected: ['email-address-bulk'], paragraphs: prose(rand, `here is the customer list for the spring campaign: ${s.emailList(rand, 60).join(', ')}.`) }),
  // The key is one paragraph of lines (a pasted block, one spreadsheet cell).
  'private-key': (rand) => ({ expected: ['private-key'], paragraphs: [...prose(rand, 'the staging key is below, keep it safe:'), s.privateKeyPem(rand)] }),
  aws: (rand) => ({
    expected: ['aws-access-key-id', 'aws-secret-key'],
    paragraphs: prose(rand, `the deploy job needs these: aws_access_key_id = ${s.awsAccessKeyId(rand)} and aws_secret_access_key = ${s.awsSecretKey(rand)}`),
  }),
  'github-token': (rand) => ({ expected: ['github-token'], paragraphs: prose(rand, `use my token ${s.githubToken(rand)} for the CI until Monday.`) }),
  'slack-token': (rand) => ({ expected: ['slack-token'], paragraphs: prose(rand, `the bot runs with SLACK_BOT_TOKEN=${s.slackToken(rand)} on the build box.`) }),
  'google-api-key': (rand) => ({ expected: ['google-api-key'], paragraphs: prose(rand, `the Maps API key for staging is ${s.googleApiKey(rand)}, do not share it.`) }),
  'stripe-secret-key': (rand) => ({ expected: ['stripe-secret-key'], paragraphs: prose(rand, `Stripe live key: ${s.stripeKey(rand)} (rotate after the launch).`) }),
  keyword: (rand, i) => ({ expected: [`keyword:${CUSTOM_KEYWORD_RULE.name}`], paragraphs: prose(rand, i % 2 ? 'memo: TOP-SECRET plans for the acquisition, not for circulation.' : 'the Project Falcon budget is final, do not forward.') }),
  eicar: () => ({ expected: ['EICAR-Test-File'], service: 'av', paragraphs: [], file: { name: 'eicar.com', data: EICAR } }),
  edm: (rand, i, data) => {
    const [name, email, account] = data.customers[1 + Math.floor(rand() * (data.customers.length - 1))] as string[];
    const sentences = [`customer ${name} (account ${account}) asked us to change the delivery address.`, `please refund ${email} — account ${account} was charged twice.`];
    return { expected: [`edm:${CORPUS_EDM}`], paragraphs: prose(rand, sentences[i % sentences.length] as string) };
  },
  fingerprint: (rand, i, data) => {
    // Five of the memo's eight paragraphs, pasted into a message.
    const from = 1 + (i % 2);
    return { expected: [`fingerprint:${CORPUS_MEMO}`], paragraphs: [...prose(rand, 'forwarding the board notes, keep them to yourself:'), ...data.memo.slice(from, from + 5)] };
  },
};

export const CORPUS_EDM = 'customers';
export const CORPUS_MEMO = 'board-memo';

/** Luhn-valid numbers with real issuer prefixes turn up in every numeric export by chance. */
const idNumber = (rand: Rand) => (rand() < 0.3 ? s.card(rand).digits : `${1 + Math.floor(rand() * 9)}${s.digits(rand, 15)}`);
const hex = (rand: Rand, n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
const uuid = (rand: Rand) => `${hex(rand, 8)}-${hex(rand, 4)}-4${hex(rand, 3)}-a${hex(rand, 3)}-${hex(rand, 12)}`;
const isbn = (rand: Rand) => {
  const body = `978${s.digits(rand, 9)}`;
  const sum = [...body].reduce((t, d, k) => t + Number(d) * (k % 2 ? 3 : 1), 0);
  return `${body.slice(0, 3)}-${body.slice(3, 4)}-${body.slice(4, 8)}-${body.slice(8)}-${(10 - (sum % 10)) % 10}`;
};
const ts = (rand: Rand) => `2024-05-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}T${String(Math.floor(rand() * 24)).padStart(2, '0')}:${String(Math.floor(rand() * 60)).padStart(2, '0')}:${String(Math.floor(rand() * 60)).padStart(2, '0')}Z`;

const NEGATIVES: Record<string, Builder> = {
  'measurements-tsv': (rand) => {
    const rows: Cell[][] = [['sample', 'depth_mm', 'reading', 'serial', 'batch']];
    for (let r = 0; r < 80; r++) rows.push([r + 1, Math.round(rand() * 10000) / 100, Math.round(rand() * 1e6) / 1e3, Number(idNumber(rand)), 7700 + r]);
    return { expected: [], paragraphs: [], table: rows };
  },
  'event-ids-csv': (rand) => {
    const rows: Cell[][] = [['event_id', 'timestamp', 'user_id', 'status']];
    for (let r = 0; r < 80; r++) rows.push([idNumber(rand), ts(rand), Math.floor(rand() * 100000), s.pick(rand, ['ok', 'retry', 'fail'])]);
    return { expected: [], paragraphs: [], table: rows };
  },
  'trace-log': (rand) => ({
    expected: [],
    paragraphs: Array.from({ length: 60 }, () => `${ts(rand)} INFO http request served trace_id=${idNumber(rand)} span_id=${s.digits(rand, 12)} status=200 bytes=${Math.floor(rand() * 90000)} duration_ms=${Math.floor(rand() * 900)}`),
  }),
  'ids-guids': (rand) => ({ expected: [], paragraphs: Array.from({ length: 40 }, (_, k) => `${k + 1}. ${uuid(rand)} created ${ts(rand)} by job ${s.digits(rand, 6)} (order ${s.digits(rand, 9)})`) }),
  'isbn-phones': (rand) => ({
    expected: [],
    paragraphs: Array.from({ length: 30 }, () => `${s.pick(rand, ['Reading list', 'Call back', 'Office', 'Library'])}: ISBN ${isbn(rand)}, call ${s.pick(rand, ['+1 (555) ', '+44 20 ', '+49 30 '])}${s.digits(rand, 3)} ${s.digits(rand, 4)} or ${s.digits(rand, 3)}-${s.digits(rand, 3)}-${s.digits(rand, 4)}`),
  }),
  'base64-image': (rand) => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(Array.from({ length: 6000 }, () => Math.floor(rand() * 256)))]);
    return { expected: [], paragraphs: ['The logo for the header, inline:', `<img alt="logo" src="data:image/png;base64,${png.toString('base64')}">`, 'Please use this version in the footer too.'] };
  },
  'minified-js': (rand) => {
    const parts: string[] = [];
    for (let k = 0; k < 150; k++) parts.push(`function ${hex(rand, 2).replace(/^\d/, 'a')}${k}(e,t){return e>>>0===${Math.floor(rand() * 4294967295)}?t[${k}]:0x${hex(rand, 8)}+${s.digits(rand, 16)}}`);
    return { expected: [], paragraphs: [`!function(){"use strict";var n=4294967295,r=9007199254740991,c="#${hex(rand, 6)}";${parts.join(';')}}();`] };
  },
  'package-lock': (rand) => {
    const deps: Record<string, unknown> = {};
    for (let k = 0; k < 40; k++) {
      const name = `pkg-${hex(rand, 6)}`;
      deps[`node_modules/${name}`] = { version: `${Math.floor(rand() * 9)}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 30)}`, resolved: `https://registry.npmjs.org/${name}/-/${name}-1.0.0.tgz`, integrity: `sha512-${Buffer.from(Array.from({ length: 64 }, () => Math.floor(rand() * 256))).toString('base64')}` };
    }
    return { expected: [], paragraphs: JSON.stringify({ name: 'app', lockfileVersion: 3, packages: deps }, null, 2).split('\n') };
  },
  'business-memo': (rand) => ({
    expected: [],
    paragraphs: [
      ...filler(rand, 6),
      `Invoice 2024-${s.digits(rand, 5)} for ${s.digits(rand, 2)},${s.digits(rand, 3)}.00 EUR is due on 31/07/2024; PO ${s.digits(rand, 10)}.`,
      `Tracking number ${s.digits(rand, 12)} (FedEx), ZIP 94043-${s.digits(rand, 4)}, account manager ${s.person(rand).first}.`,
      `Payment of ${s.digits(rand, 4)}.${s.digits(rand, 2)} USD was received on 05/17/2024 for order ${s.digits(rand, 8)}.`,
    ],
  }),
  'mail-thread': (rand) => ({
    expected: [],
    paragraphs: [
      `On Fri, 17 May 2024, ${s.emailList(rand, 1, 'corp-mail.net')[0]} wrote:`,
      ...filler(rand, 3),
      `Cc: ${s.emailList(rand, 6, 'corp-mail.net').join(', ')}`,
      'Best regards,',
      `${s.person(rand).first} ${s.person(rand).last} | Sales | +49 30 ${s.digits(rand, 3)} ${s.digits(rand, 4)} | noreply@corp-mail.net`,
    ],
  }),
  'key-docs': () => ({
    expected: [],
    paragraphs: [
      'To configure TLS, put the key in a file that starts with -----BEGIN RSA PRIVATE KEY----- and ends with the matching END line.',
      '-----BEGIN PRIVATE KEY-----', '...', '-----END PRIVATE KEY-----',
      'The AWS CLI example uses the access key AKIAIOSFODNN7EXAMPLE and the secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.',
      'Set GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx in your shell; never commit it.',
    ],
  }),
  'hashes-source': (rand) => ({
    expected: [],
    paragraphs: Array.from({ length: 30 }, () => `commit ${hex(rand, 40)}  sha256:${hex(rand, 64)}  v${Math.floor(rand() * 9)}.${Math.floor(rand() * 9)}.${Math.floor(rand() * 99)}  build ${s.digits(rand, 7)}`),
  }),
};

export const POSITIVE_KINDS = Object.keys(POSITIVES);
export const NEGATIVE_KINDS = Object.keys(NEGATIVES);

/** `perKind` documents of every kind, the same for the same seed. */
export function documents(seed: number, perKind: number): Doc[] {
  const rand = s.seeded(seed);
  const data = corpusData(seed);
  const docs: Doc[] = [];
  for (const [kinds, builders] of [[POSITIVE_KINDS, POSITIVES], [NEGATIVE_KINDS, NEGATIVES]] as const) {
    for (const kind of kinds) {
      for (let i = 0; i < perKind; i++) {
        const built = (builders[kind] as Builder)(rand, i, data);
        docs.push({ id: `${kind}-${i}`, kind, service: built.service ?? 'dlp', expected: built.expected, paragraphs: built.paragraphs, ...(built.table ? { table: built.table } : {}), ...(built.file ? { file: built.file } : {}) });
      }
    }
  }
  return docs;
}
