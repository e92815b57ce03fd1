import { describe, expect, it } from 'vitest';
import { incidentTime, newIncidentId } from '../../../src/enforce/index.js';

describe('incident ids', () => {
  it('are 16 lower-case Crockford base32 characters (URL- and header-safe, no I L O U)', () => {
    for (let i = 0; i < 100; i++) expect(newIncidentId()).toMatch(/^[0-9a-hjkmnp-tv-z]{16}$/);
  });
  it('sort by time and carry it', () => {
    const t = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const ids = [t, t + 1, t + 1000, t + 86_400_000].map((ms) => newIncidentId(ms));
    expect([...ids].sort()).toEqual(ids);
    expect(incidentTime(ids[0]!)).toBe(t);
  });
  it('do not collide within one millisecond, and sort in the order they were issued (100,000 ids)', () => {
    // 30 random bits alone collided in about one run of 10,000 in 20 (the birthday bound)
    const now = Date.now();
    const ids = Array.from({ length: 100_000 }, () => newIncidentId(now));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => incidentTime(id) === now)).toBe(true);
  });
});
