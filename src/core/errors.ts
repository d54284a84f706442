// The one error type of Miroir and the dev node: a Meilisearch-shaped error (`message`, `code`, `type`, `link`)
// with its HTTP status, plus the table of Miroir's own `miroir_*` codes. Pure; used in every thread.
import { MEILI_ERROR_CODES, type MeiliErrorCode } from './meili-error-codes.js';

export type ErrorType = 'invalid_request' | 'auth' | 'internal' | 'system';

/** Miroir's own codes (SPEC C12 + Decisions): code → [type, HTTP status]. */
export const MIROIR_ERROR_CODES = Object.freeze({
  miroir_no_quorum: ['system', 503],
  miroir_shard_unavailable: ['system', 503],
  miroir_reserved_field: ['invalid_request', 400],
  miroir_invalid_document_expiry: ['invalid_request', 400],
  miroir_node_exists: ['invalid_request', 409],
  miroir_node_not_found: ['invalid_request', 404],
  miroir_group_not_found: ['invalid_request', 404],
  miroir_topology_conflict: ['invalid_request', 409],
  miroir_not_supported: ['invalid_request', 501],
  miroir_idempotency_key_reused: ['invalid_request', 409],
  miroir_settings_version_stale: ['system', 503],
  miroir_multi_alias_not_writable: ['invalid_request', 409],
  miroir_jwt_invalid: ['auth', 401],
  miroir_jwt_scope_denied: ['auth', 403],
  miroir_invalid_auth: ['auth', 401],
  miroir_rate_limited: ['invalid_request', 429], // search UI (issue 32); admin console logins (issue 31)
  miroir_rotation_in_progress: ['invalid_request', 409], // search UI (issue 32)
  miroir_csrf_token_invalid: ['auth', 403], // admin console (issue 31)
  miroir_origin_not_allowed: ['auth', 403], // admin console (issue 31)
  miroir_admin_read_only: ['auth', 403], // admin console (issue 31)
  miroir_invalid_canary: ['invalid_request', 400], // canaries (issue 30)
  miroir_canary_not_found: ['invalid_request', 404], // canaries (issue 30)
  miroir_invalid_shadow_filter: ['invalid_request', 400], // traffic shadow (issue 30)
  miroir_store_unavailable: ['system', 503], // the shared store (Redis) or its master is unreachable (issue 23)
  miroir_invalid_idempotency_key: ['invalid_request', 400], // consistency (issue 24)
  miroir_settings_frozen: ['system', 503], // consistency (issue 24)
  miroir_invalid_session: ['invalid_request', 400], // consistency (issue 24)
  miroir_invalid_settings_version: ['invalid_request', 400], // consistency (issue 24)
  miroir_invalid_changes_query: ['invalid_request', 400], // change data capture (issue 28)
  miroir_invalid_reshard: ['invalid_request', 400], // online reshard (issue 26)
  miroir_reshard_conflict: ['invalid_request', 409], // online reshard (issue 26)
  miroir_reshard_not_found: ['invalid_request', 404], // online reshard (issue 26)
  miroir_alias_conflict: ['invalid_request', 409], // aliases (issue 26)
  miroir_alias_not_found: ['invalid_request', 404], // aliases (issue 26)
  miroir_invalid_alias: ['invalid_request', 400], // aliases (issue 26)
  miroir_invalid_ilm_policy: ['invalid_request', 400], // ILM rollover (issue 26)
  miroir_ilm_policy_not_found: ['invalid_request', 404], // ILM rollover (issue 26)
} as const satisfies Record<string, readonly [ErrorType, number]>);

export type MiroirErrorCode = keyof typeof MIROIR_ERROR_CODES;
export type ErrorCode = MeiliErrorCode | MiroirErrorCode;

const MEILI_LINK_BASE = 'https://docs.meilisearch.com/errors#';
/** Default base for `miroir_*` links; the proxy config may replace it (`setMiroirErrorLinkBase`). */
export const DEFAULT_MIROIR_LINK_BASE = 'https://github.com/miroir-search/miroir/blob/main/docs/errors.md#';
let miroirLinkBase = DEFAULT_MIROIR_LINK_BASE;

export function setMiroirErrorLinkBase(base: string): void {
  miroirLinkBase = base;
}

const TABLE: Readonly<Record<string, readonly [ErrorType, number]>> = Object.freeze({
  ...MEILI_ERROR_CODES,
  ...MIROIR_ERROR_CODES,
});

/** Whether a code is in Meilisearch's table or Miroir's. */
export function isKnownCode(code: string): code is ErrorCode {
  return Object.hasOwn(TABLE, code);
}

export function errorStatus(code: ErrorCode): number {
  return TABLE[code]![1];
}

export function errorType(code: ErrorCode): ErrorType {
  return TABLE[code]![0];
}

export function errorLink(code: ErrorCode): string {
  return (code.startsWith('miroir_') ? miroirLinkBase : MEILI_LINK_BASE) + code;
}

/** The JSON body of an error, keys in Meilisearch's order. */
export interface ErrorBody {
  message: string;
  code: string;
  type: string;
  link: string;
}

const kMeiliError = Symbol.for('miroir.error');

/**
 * A Meilisearch-shaped error. `status` is the HTTP status the code maps to; an error raised while
 * processing an async task keeps its code but is reported inside the task instead.
 */
export class MeiliError extends Error {
  readonly code: ErrorCode;
  readonly type: ErrorType;
  readonly status: number;
  readonly link: string;

  constructor(code: ErrorCode, message: string, forwarded?: { status: number; type: ErrorType; link: string }) {
    super(message);
    this.name = 'MeiliError';
    this.code = code;
    this.type = forwarded?.type ?? errorType(code);
    this.status = forwarded?.status ?? errorStatus(code);
    this.link = forwarded?.link ?? errorLink(code);
  }

  /** Holds across worker threads and duplicate module copies. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && kMeiliError in value && value[kMeiliError] === true;
  }

  toJSON(): ErrorBody {
    return { message: this.message, code: this.code, type: this.type, link: this.link };
  }

  /** The error again from its body (e.g. one a worker thread returned or a node answered in a task). */
  static fromBody(body: ErrorBody): MeiliError {
    return isKnownCode(body.code) ? new MeiliError(body.code, body.message) : MeiliError.forwarded(body, 500);
  }

  /**
   * A node's error answer passed through unchanged: its code (known to this table or not), message, type, link and
   * HTTP status, so a newer Meilisearch's codes reach the client as that node gave them.
   */
  static forwarded(body: Partial<ErrorBody> & { message?: unknown; code?: unknown }, status: number): MeiliError {
    const code = typeof body.code === 'string' && body.code !== '' ? body.code : 'internal';
    const message = typeof body.message === 'string' ? body.message : `A node answered ${status}.`;
    if (isKnownCode(code) && errorStatus(code) === status) return new MeiliError(code, message);
    const type =
      (['invalid_request', 'auth', 'internal', 'system'] as const).find((t) => t === body.type) ??
      (status >= 500 ? 'internal' : 'invalid_request');
    const link = typeof body.link === 'string' ? body.link : errorLink(code as ErrorCode);
    return new MeiliError(code as ErrorCode, message, { status, type, link });
  }
}
Object.defineProperty(MeiliError.prototype, kMeiliError, { value: true });

/** Builds the error body for a code without throwing. */
export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { message, code, type: errorType(code), link: errorLink(code) };
}

/** A thrown value's message (an Error's own, anything else as text). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An unexpected failure, shaped as Meilisearch's `internal` error (never a stack trace on the wire). */
export function internalError(err: unknown): MeiliError {
  if (err instanceof MeiliError) return err;
  // src/store's StoreUnavailableError (matched by name: core does not import the store).
  if (err instanceof Error && err.name === 'StoreUnavailableError')
    return new MeiliError(
      'miroir_store_unavailable',
      `The task store is unavailable; retry shortly. \`${err.message}\`.`,
    );
  const msg = err instanceof Error ? err.message : String(err);
  return new MeiliError('internal', `An internal error has occurred. \`${msg}\`.`);
}
