// Session tokens of the search page (SPEC A21, C14): HS256 JWTs signed with SEARCH_UI_JWT_SECRET (the env var
// `auth.jwt_secret_env` names) and verified with it or with <name>_PREVIOUS during a secret rotation; `kid` is a
// hash prefix of the signing secret. Every failure is 401 `miroir_jwt_invalid` (never a fallthrough to API keys).
import { createHash } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { MeiliError } from '../../core/errors.js';
import {
  claimsProblem,
  SESSION_ISSUER,
  SESSION_SCOPES,
  SESSION_SUBJECT,
  type SessionClaims,
} from '../../core/search-ui/session.js';

/** The key id of a secret: the first 16 hex digits of its SHA-256. */
export function keyId(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

export function jwtInvalid(reason: string): MeiliError {
  return new MeiliError(
    'miroir_jwt_invalid',
    `The search session token is invalid: ${reason}. Open a new session at \`/ui/search/{index}/session\`.`,
  );
}

const MIN_SECRET_BYTES = 32;

export class SessionSigner {
  private readonly keys = new Map<string, Uint8Array>();
  readonly kid: string;

  /** Reads the secrets from `env`; throws a start-up error naming the variable when the primary is missing or short. */
  constructor(envName: string, env: NodeJS.ProcessEnv) {
    const primary = env[envName];
    if (primary === undefined || Buffer.byteLength(primary) < MIN_SECRET_BYTES) {
      throw new Error(
        `search_ui.enabled needs the session-signing secret in env ${envName} (at least ${MIN_SECRET_BYTES} bytes; 64 random bytes recommended, e.g. \`openssl rand -base64 64\`)`,
      );
    }
    this.kid = keyId(primary);
    this.keys.set(this.kid, new TextEncoder().encode(primary));
    const previous = env[`${envName}_PREVIOUS`];
    if (previous !== undefined && previous !== '') this.keys.set(keyId(previous), new TextEncoder().encode(previous));
  }

  /** A session token for `index` valid `ttlS` seconds from `nowMs`. */
  async sign(
    index: string,
    ttlS: number,
    nowMs: number,
    injectedFilter: string | null,
  ): Promise<{ token: string; claims: SessionClaims }> {
    const iat = Math.floor(nowMs / 1000);
    const claims: SessionClaims = {
      iss: SESSION_ISSUER,
      sub: SESSION_SUBJECT,
      idx: index,
      scope: [...SESSION_SCOPES],
      exp: iat + ttlS,
      iat,
      kid: this.kid,
    };
    if (injectedFilter !== null) claims.injected_filter = injectedFilter;
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: this.kid })
      .sign(this.keys.get(this.kid)!);
    return { token, claims };
  }

  /** Verifies signature, algorithm, kid, expiry and the A21 claims; throws `miroir_jwt_invalid` naming the reason. */
  async verify(token: string, nowMs: number): Promise<SessionClaims> {
    let payload: Record<string, unknown>;
    let headerKid: string | undefined;
    try {
      const res = await jwtVerify(
        token,
        (header) => {
          const key = header.kid === undefined ? undefined : this.keys.get(header.kid);
          if (key === undefined) throw jwtInvalid('it was signed with an unknown key (`kid`)');
          return key;
        },
        { algorithms: ['HS256'], currentDate: new Date(nowMs), requiredClaims: ['exp', 'iat'] },
      );
      payload = res.payload as Record<string, unknown>;
      headerKid = res.protectedHeader.kid;
    } catch (err) {
      if (err instanceof MeiliError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw jwtInvalid('it has expired');
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw jwtInvalid('its signature does not match');
      if (err instanceof joseErrors.JOSEAlgNotAllowed) throw jwtInvalid('its algorithm is not HS256');
      throw jwtInvalid('it could not be decoded');
    }
    const problem = claimsProblem(payload);
    if (problem !== null) throw jwtInvalid(problem);
    if (payload.kid !== headerKid) throw jwtInvalid('its `kid` claim does not match its header');
    return payload as unknown as SessionClaims;
  }
}
