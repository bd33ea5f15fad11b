import { Writable } from 'node:stream';
import type { Test } from 'tap';
import { PortcullisError } from '../../src/errors/index.js';
import { deliverySchema } from '../../src/config/schema/delivery.js';
import type { Config } from '../../src/config/schema/index.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';

/** A real pino logger whose JSON lines are collected and parsed. */
export function captureLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>>; raw: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = createLogger({ level: 'debug' }, stream);
  const raw = (): string => chunks.join('');
  const lines = (): Array<Record<string, unknown>> =>
    raw()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, raw };
}

export function deliveryConfig(input: unknown): Config['delivery'] {
  return deliverySchema.parse(input);
}

/** Awaits a send that must fail with DELIVERY_FAILED, and answers the error. */
export async function failure(t: Test, promise: Promise<unknown>): Promise<PortcullisError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof PortcullisError, 'a PortcullisError');
  t.equal((err as PortcullisError).code, 'PORTCULLIS_ERR_DELIVERY_FAILED');
  return err as PortcullisError;
}
