import type { Logger } from 'pino';
import type { Config } from '../config/schema/index.js';
import type { Clock } from '../util/clock.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import type { KeyValueStore } from './store.js';

/** The configured runtime-state store. Validation has no side effects; this is where Redis is dialled. */
export function createStore(sessionConfig: Config['session'], logger: Logger, clock?: Clock): KeyValueStore {
  if (sessionConfig.store === 'memory') {
    logger.warn(
      { store: 'memory' },
      'SESSION STORE IS IN MEMORY: sessions, codes, lockouts and trusted devices are lost on restart and NOT shared between instances or workers; use store: redis in production',
    );
    return new MemoryStore(clock);
  }
  return new RedisStore(sessionConfig.redis, logger);
}
