// The change log's push sinks (SPEC A13, Round 2 decisions "CDC"): a webhook (batched JSON array POST, HMAC-signed,
// retried with backoff) and NATS JetStream (subject `{subject_prefix}.{index}`, the event id as the message id so the
// stream drops a resend within its duplicate window). Each sink reads the log from its cursor in the store, delivers a
// batch, then saves the cursor — at least once across crashes — on the one pod holding its Mode B lease
// `cdc_sink:<name>`. Events retention trimmed before the sink read them are counted as dropped.
import { connect, JSONCodec, type JetStreamClient, type NatsConnection } from 'nats';
import {
  droppedBefore,
  eventsBytes,
  forSink,
  natsSubject,
  retryDelayMs,
  webhookSignature,
  type CdcEvent,
} from '../../core/cdc.js';
import type { Store } from '../../store/store.js';
import type { Logger } from '../observability/logger.js';
import type { CdcConfig } from './config.js';
import type { ChangeLog } from './log.js';
import type { CdcMetrics } from './metrics.js';

/** One destination: delivers a batch or throws (the batch is retried). */
export interface SinkTarget {
  readonly name: string;
  readonly batchSize: number;
  readonly flushMs: number;
  deliver(events: readonly CdcEvent[]): Promise<void>;
  close(): Promise<void>;
}

export interface SinkRunnerOptions {
  store: Store;
  log: ChangeLog;
  metrics: CdcMetrics;
  logger: Logger | null;
  /** Whether this pod delivers for the sink now (Mode B lease `cdc_sink:<name>`). */
  leading: () => boolean;
}

const IDLE_WAIT_MS = 1000;

/** Delivers one sink's events in log order from its persisted cursor, while this pod leads it. */
export class SinkRunner {
  private stopped = false;
  private wakeStop: (() => void) | null = null;
  private readonly stopping = new Promise<void>((r) => (this.wakeStop = r));
  private loop: Promise<void> | null = null;
  /** The cursor as this pod last read or saved it while leading (null: read it from the store first). */
  private cursor: number | null = null;

  constructor(
    private readonly target: SinkTarget,
    private readonly o: SinkRunnerOptions,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeStop?.();
    await this.loop;
    await this.target.close().catch(() => undefined);
  }

  private async run(): Promise<void> {
    const sink = this.target.name;
    while (!this.stopped) {
      try {
        if (!this.o.leading()) {
          this.cursor = null; // another pod may move it meanwhile
          this.o.metrics.lag.set({ sink }, 0);
          await this.o.log.waitForAppend(IDLE_WAIT_MS);
          continue;
        }
        await this.step();
      } catch (err) {
        this.o.logger?.warn({ err, sink }, 'CDC sink step failed');
        this.cursor = null;
        await this.o.log.waitForAppend(IDLE_WAIT_MS);
      }
    }
  }

  /** Waits `ms`, or less when the runner stops. */
  private async sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.stopping, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  private async step(): Promise<void> {
    const sink = this.target.name;
    const store = this.o.store;
    let cursor = this.cursor ?? (await store.getChangeCursor(sink));
    const bounds = await store.changesBounds();
    // Retention trimmed events this sink never read: count them and go on from the first kept one.
    const gap = bounds.first === null ? Math.max(0, bounds.last - cursor) : droppedBefore(cursor, bounds.first);
    if (gap > 0) {
      this.o.metrics.dropped.inc({ sink }, gap);
      this.o.logger?.warn({ sink, dropped: gap }, 'CDC events were trimmed before the sink delivered them');
      cursor = bounds.first === null ? bounds.last : bounds.first - 1;
      await store.putChangeCursor(sink, cursor);
    }
    this.cursor = cursor;
    const { events } = await store.readChanges(cursor, this.target.batchSize);
    if (events.length === 0) {
      this.o.metrics.lag.set({ sink }, 0);
      await this.o.log.waitForAppend(IDLE_WAIT_MS);
      return;
    }
    const age = Date.now() - Date.parse(events[0]!.timestamp);
    this.o.metrics.lag.set({ sink }, Math.max(0, age) / 1000);
    if (events.length < this.target.batchSize && age < this.target.flushMs) {
      await this.o.log.waitForAppend(this.target.flushMs - age);
      return;
    }
    this.o.metrics.bufferBytes.set({ sink }, eventsBytes(events));
    for (let attempt = 0; ; attempt++) {
      try {
        await this.target.deliver(events);
        break;
      } catch (err) {
        this.o.logger?.warn({ err, sink, attempt }, 'CDC sink delivery failed; retrying');
        await this.sleep(retryDelayMs(attempt));
        if (this.stopped || !this.o.leading()) {
          this.o.metrics.bufferBytes.set({ sink }, 0);
          return;
        }
      }
    }
    this.o.metrics.bufferBytes.set({ sink }, 0);
    const last = events[events.length - 1]!.event_id;
    await store.putChangeCursor(sink, last);
    this.cursor = last;
    for (const e of events) this.o.metrics.published.inc({ sink, index: e.index });
  }
}

/** `cdc.sinks.webhook`: a JSON array per POST, signed with the secret from `secret_env` when set. */
export function webhookTarget(cfg: NonNullable<CdcConfig['sinks']['webhook']>, env: NodeJS.ProcessEnv): SinkTarget {
  const secret = cfg.secret_env === undefined ? null : (env[cfg.secret_env] ?? null);
  if (cfg.secret_env !== undefined && secret === null)
    throw new Error(`cdc.sinks.webhook.secret_env names ${cfg.secret_env}, which is not set`);
  return {
    name: 'webhook',
    batchSize: cfg.batch_size,
    flushMs: cfg.batch_flush_ms,
    async deliver(events) {
      const body = JSON.stringify(events.map((e) => forSink(e, cfg.include_body)));
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (secret !== null) headers['x-miroir-signature'] = webhookSignature(secret, body);
      const res = await fetch(cfg.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(cfg.timeout_ms),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) throw new Error(`webhook answered ${res.status}`);
    },
    async close() {},
  };
}

/** `cdc.sinks.nats`: JetStream publishes, each acknowledged by the stream before the cursor moves. */
export function natsTarget(cfg: NonNullable<CdcConfig['sinks']['nats']>): SinkTarget {
  const codec = JSONCodec<CdcEvent>();
  let conn: NatsConnection | null = null;
  let js: JetStreamClient | null = null;
  const open = async (): Promise<JetStreamClient> => {
    if (js !== null && conn !== null && !conn.isClosed()) return js;
    conn = await connect({ servers: cfg.url.split(','), reconnect: true, maxReconnectAttempts: -1 });
    const jsm = await conn.jetstreamManager();
    try {
      await jsm.streams.info(cfg.stream);
    } catch {
      await jsm.streams.add({ name: cfg.stream, subjects: [`${cfg.subject_prefix}.>`] });
    }
    js = conn.jetstream();
    return js;
  };
  const reset = async () => {
    const c = conn;
    conn = null;
    js = null;
    await c?.close().catch(() => undefined);
  };
  return {
    name: 'nats',
    batchSize: cfg.batch_size,
    flushMs: 0,
    async deliver(events) {
      const client = await open();
      try {
        await Promise.all(
          events.map((e) =>
            client.publish(natsSubject(cfg.subject_prefix, e.index), codec.encode(forSink(e, cfg.include_body)), {
              msgID: String(e.event_id),
              timeout: 10_000,
            }),
          ),
        );
      } catch (err) {
        await reset();
        throw err;
      }
    },
    close: reset,
  };
}
