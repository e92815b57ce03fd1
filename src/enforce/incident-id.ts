// Incident ids: what a blocked person reads to the helpdesk and what the violation log line
// carries. Time-ordered (sorting ids sorts incidents) and unique across instances: 10 Crockford
// base32 characters of milliseconds since the epoch (good until the year 10889), then 6 of a
// 30-bit number. Lower case, no I/L/O/U: easy to read aloud, safe in URLs and headers.
//
// The first id of a millisecond takes a random number in the lower half of the range; each later
// id of the same millisecond in this process counts up from the previous one by a random step
// (1-1024). So ids of one process never collide (30 random bits alone collided once in about 20
// runs of 10,000 ids in one millisecond), they sort in the order they were issued, and the next id
// is still not guessable from the last; two processes collide only if both issue in the same
// millisecond and land on the same number (about one chance in 2^29 per such pair).
import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TAIL_RANGE = 2 ** 30;
const MAX_STEP = 2 ** 10;

let lastMs = -1;
let lastTail = 0;

export function newIncidentId(now: number = Date.now()): string {
  let time = '';
  let t = Math.floor(now);
  const ms = t;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  // counting up from the lower half leaves room for half a million ids in one millisecond
  let n = ms === lastMs && lastTail < TAIL_RANGE - MAX_STEP ? lastTail + 1 + randomInt(0, MAX_STEP) : randomInt(0, TAIL_RANGE / 2);
  lastMs = ms;
  lastTail = n;
  let tail = '';
  for (let i = 0; i < 6; i++) {
    tail = ALPHABET[n % 32]! + tail;
    n = Math.floor(n / 32);
  }
  return time + tail;
}

/** The time an incident id was issued (ms since the epoch), for tools that read logs. */
export function incidentTime(id: string): number {
  let t = 0;
  for (const c of id.slice(0, 10)) t = t * 32 + ALPHABET.indexOf(c);
  return t;
}
