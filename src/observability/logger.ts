import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths that must never reach a log line, whatever a caller passes. */
export const REDACT_PATHS = [
  'password',
  'code',
  'token',
  'secret',
  'cookie',
  'authorization',
  '*.password',
  // Not '*.code': error objects carry their PORTCULLIS_ERR_* code there.
  'body.code',
  'form.code',
  '*.token',
  '*.secret',
  '*.cookie',
  '*.authorization',
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

export interface LoggerOptions {
  level?: string;
  format?: 'json' | 'pretty';
}

/** The gateway's pino logger: JSON lines, secrets redacted, `time` as ISO string. */
export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'portcullis' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** The fields every authentication decision carries (SPEC §5). Never a password, code or token. */
export interface AuditEvent {
  event: string;
  user?: string | undefined;
  client_ip?: string | undefined;
  method?: string | undefined;
  result: 'success' | 'failure' | 'info';
  reason?: string | undefined;
  request_id?: string | undefined;
  [extra: string]: unknown;
}

/** Audit events are logged whatever the configured level (pino's `fatal` is never filtered except by `silent`). */
export function audit(logger: Logger, event: AuditEvent): void {
  const line = { audit: true, ...event };
  if (logger.isLevelEnabled('info')) logger.info(line, `audit ${event.event} ${event.result}`);
  else logger.fatal(line, `audit ${event.event} ${event.result}`);
}
