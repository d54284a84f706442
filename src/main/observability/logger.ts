// The proxy's one logger: pino JSON lines keyed as SPEC C16 asks (`timestamp`, `level`, `message`, then fields).
// Options are resolved once here; callers pass child bindings, never keys, queries or documents.
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

// HOT PATH (one line per request). The ISO-8601 second is formatted once per second and each line appends its
// milliseconds: a Date and toISOString per line cost ~0.5 µs.
let isoSecond = -1;
let isoPrefix = '';

/** `new Date().toISOString()`, cheaper. */
export function isoNow(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const ms = now - second * 1000;
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

export function createLogger(level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      messageKey: 'message',
      timestamp: () => `,"timestamp":"${isoNow()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
