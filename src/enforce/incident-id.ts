// Incident ids: what a blocked person reads to the helpdesk and what the violation log line
// carries. Time-ordered (sorting ids sorts incidents) and unique across instances: 10 Crockford
// base32 characters of milliseconds since the epoch (good until the year 10889), then 6 of
// randomness (30 bits). Lower case, no I/L/O/U: easy to read aloud, safe in URLs and headers.
import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export function newIncidentId(now: number = Date.now()): string {
  let time = '';
  let t = Math.floor(now);
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let random = randomInt(0, 2 ** 30);
  let tail = '';
  for (let i = 0; i < 6; i++) {
    tail += ALPHABET[random % 32]!;
    random = Math.floor(random / 32);
  }
  return time + tail;
}

/** The time an incident id was issued (ms since the epoch), for tools that read logs. */
export function incidentTime(id: string): number {
  let t = 0;
  for (const c of id.slice(0, 10)) t = t * 32 + ALPHABET.indexOf(c);
  return t;
}
