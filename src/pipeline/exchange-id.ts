// Exchange ids double as incident ids on block pages and in the violation log: short, unique,
// URL-safe and time-ordered (48-bit milliseconds + 40 random bits, Crockford base32, 18 chars).
import crypto from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const pool = Buffer.alloc(5 * 256);
let offset = pool.length;

export function newExchangeId(now = Date.now()): string {
  if (offset >= pool.length) {
    crypto.randomFillSync(pool);
    offset = 0;
  }
  let random = 0n;
  for (let i = 0; i < 5; i++) random = (random << 8n) | BigInt(pool[offset + i]!);
  offset += 5;
  let value = (BigInt(now) << 40n) | random;
  let out = '';
  for (let i = 0; i < 18; i++) {
    out = ALPHABET[Number(value & 31n)]! + out;
    value >>= 5n;
  }
  return out;
}
