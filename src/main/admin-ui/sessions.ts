// Admin console sessions (SPEC A19, C8 `admin_sessions`): opened at login with a CSRF token, kept in the store so any
// pod honours them, revoked at logout — in the store and announced on `admin_session_revoked`, which drops the
// session from every pod's short read cache at once. State changes always re-read the store (never the cache), so a
// revocation holds for them even when a message was lost.
import { createHash, randomBytes } from 'node:crypto';
import type { AdminSessionRecord, Store } from '../../store/store.js';
import { SessionSeal } from './seal.js';

/** How long a pod may answer reads from a session it read before (a lost revocation message lasts at most this). */
export const SESSION_CACHE_MS = 5000;
const CACHE_MAX = 1000;

export function adminKeyHash(adminKey: string): string {
  return createHash('sha256').update(adminKey).digest('hex');
}

export interface OpenedSession {
  /** The Set-Cookie value's payload (sealed secret). */
  cookie: string;
  session: AdminSessionRecord;
}

export class AdminSessions {
  private readonly cache = new Map<string, { session: AdminSessionRecord; readAt: number }>();
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    private readonly store: Store,
    private readonly seal: SessionSeal,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.store.subscribe('admin_session_revoked', (id) => this.cache.delete(id));
  }

  async close(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = null;
    this.cache.clear();
  }

  async open(adminKey: string): Promise<OpenedSession> {
    const secret = SessionSeal.newSecret();
    const now = this.now();
    const session: AdminSessionRecord = {
      id: this.seal.sessionId(secret),
      csrf_token: randomBytes(32).toString('base64url'),
      admin_key_hash: adminKeyHash(adminKey),
      created_at: now,
      expires_at: now + this.ttlMs,
      revoked: false,
    };
    await this.store.putAdminSession(session);
    return { cookie: this.seal.seal(secret), session };
  }

  /** The session id a cookie value names, or null when the cookie was not sealed here. */
  idOf(cookie: string): string | null {
    const secret = this.seal.open(cookie);
    return secret === null ? null : this.seal.sessionId(secret);
  }

  /** A live session (not expired, not revoked): from the store when `fresh`, else possibly from the read cache. */
  async find(id: string, fresh: boolean): Promise<AdminSessionRecord | null> {
    const now = this.now();
    const hit = this.cache.get(id);
    let session: AdminSessionRecord | null;
    if (!fresh && hit !== undefined && now - hit.readAt < SESSION_CACHE_MS) {
      session = hit.session;
    } else {
      session = await this.store.getAdminSession(id);
      this.cache.delete(id);
      if (session !== null && !session.revoked) {
        if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(id, { session, readAt: now });
      }
    }
    return session === null || session.revoked || session.expires_at <= now ? null : session;
  }

  /** Logout: revoked in the store, then announced to every pod. */
  async revoke(id: string): Promise<void> {
    this.cache.delete(id);
    await this.store.revokeAdminSession(id);
    await this.store.publish('admin_session_revoked', id);
  }
}
