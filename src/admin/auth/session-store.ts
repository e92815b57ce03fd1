// Sign-in sessions of the admin listener, in the memory of the process that runs it (the primary
// in cluster mode, so one store serves every request). The cookie carries 32 random bytes; the
// store keeps only their SHA-256, so a lookup compares digests and a heap dump holds no live
// session id. Each session ends `ttlMs` after sign-in, at logout, or when its user's entry in
// admin.users is removed or its hash replaced (checked on every request: a reload revokes).
// Bounded: past `maxSessions` the least recently used session is dropped.
import crypto from 'node:crypto';
import { LRUCache } from 'lru-cache';

export interface AdminSession {
  user: string;
  /** SHA-256 of the password hash the user signed in with: a changed hash ends the session */
  credential: string;
  /** the synchronizer token the session's forms carry (logout) */
  csrfToken: string;
  expiresAt: number;
}

function digest(id: string): string {
  return crypto.createHash('sha256').update(id).digest('base64url');
}

export function randomToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export class SessionStore {
  readonly #sessions: LRUCache<string, AdminSession>;

  constructor(maxSessions = 10_000) {
    this.#sessions = new LRUCache({ max: maxSessions });
  }

  create(user: string, credential: string, ttlMs: number, now = Date.now()): { id: string; session: AdminSession } {
    const id = randomToken();
    const session: AdminSession = { user, credential, csrfToken: randomToken(), expiresAt: now + ttlMs };
    this.#sessions.set(digest(id), session);
    return { id, session };
  }

  get(id: string | undefined, now = Date.now()): AdminSession | undefined {
    if (!id) return undefined;
    const key = digest(id);
    const session = this.#sessions.get(key);
    if (session && session.expiresAt <= now) {
      this.#sessions.delete(key);
      return undefined;
    }
    return session;
  }

  destroy(id: string | undefined): void {
    if (id) this.#sessions.delete(digest(id));
  }

  get size(): number {
    return this.#sessions.size;
  }
}
