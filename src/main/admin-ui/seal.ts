// Seals the admin console's session cookie (SPEC C14 `ADMIN_SESSION_SEAL_KEY`): the cookie carries a random session
// secret encrypted and authenticated with AES-256-GCM (node:crypto has no XChaCha20-Poly1305; the Decisions allow
// AES-256-GCM), and the store knows the session only by an HMAC-SHA256 of that secret — so neither a store dump nor
// a log line holds a usable cookie, and a forged cookie is refused without a store read.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

export const SEAL_KEY_ENV = 'ADMIN_SESSION_SEAL_KEY';
/** Shortest accepted seal key (characters); `openssl rand -hex 64` gives 128. */
export const MIN_SEAL_KEY_CHARS = 32;

const SECRET_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEALED_BYTES = IV_BYTES + SECRET_BYTES + TAG_BYTES;
const COOKIE_RE = /^[A-Za-z0-9_-]{80}$/;

export class SessionSeal {
  private readonly macKey: Buffer;
  private readonly encKey: Buffer;

  /** `material`: 64 bytes — the first 32 key the HMAC, the last 32 the cipher. */
  constructor(material: Buffer) {
    if (material.length !== 64) throw new Error('SessionSeal: material must be 64 bytes');
    this.macKey = material.subarray(0, 32);
    this.encKey = material.subarray(32, 64);
  }

  /**
   * From the env value (any string of ≥ 32 characters, stretched to 64 bytes with HKDF-SHA-512, so every pod with the
   * same value seals alike), or random when unset (`random` true: the caller warns).
   */
  static fromEnv(value: string | undefined): { seal: SessionSeal; random: boolean } {
    if (value === undefined || value === '') return { seal: new SessionSeal(randomBytes(64)), random: true };
    if (value.length < MIN_SEAL_KEY_CHARS)
      throw new Error(`${SEAL_KEY_ENV} must be at least ${MIN_SEAL_KEY_CHARS} characters (e.g. openssl rand -hex 64)`);
    const material = Buffer.from(hkdfSync('sha512', Buffer.from(value, 'utf8'), 'miroir-admin-session', 'seal-v1', 64));
    return { seal: new SessionSeal(material), random: false };
  }

  /** A new session secret. */
  static newSecret(): Buffer {
    return randomBytes(SECRET_BYTES);
  }

  /** The cookie value carrying `secret` (80 base64url characters). */
  seal(secret: Buffer): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, iv);
    const body = Buffer.concat([cipher.update(secret), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The secret a cookie value carries, or null when it was not sealed by this key (or was altered). */
  open(cookie: string): Buffer | null {
    if (!COOKIE_RE.test(cookie)) return null;
    const raw = Buffer.from(cookie, 'base64url');
    if (raw.length !== SEALED_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.encKey, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES + SECRET_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, IV_BYTES + SECRET_BYTES)), decipher.final()]);
    } catch {
      return null;
    }
  }

  /** The id the store keeps the session under. */
  sessionId(secret: Buffer): string {
    return createHmac('sha256', this.macKey).update(secret).digest('hex');
  }
}
