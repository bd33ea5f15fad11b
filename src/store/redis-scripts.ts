import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * Lua scripts for the store's atomic operations. Each touches exactly one key (KEYS[1]), so they
 * run unchanged on a Cluster.
 */
export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** INCR; the first increment sets the window as TTL (ARGV[1] ms, 0 = none). */
export const INCR_WINDOW = script(`
local v = redis.call('INCR', KEYS[1])
if v == 1 and tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return v`);

/** HINCRBY on an existing hash only; returns {new value, HGETALL} or nil. */
export const HASH_INCR_EXISTING = script(`
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return nil end
local v
if ARGV[3] == 'int' then v = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
else v = redis.call('HINCRBYFLOAT', KEYS[1], ARGV[1], ARGV[2]) end
return {tostring(v), redis.call('HGETALL', KEYS[1])}`);

/** HSET fields (ARGV[2..]) then sets the TTL (ARGV[1] ms, 0 = none). */
export const HASH_SET_TTL = script(`
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) else redis.call('PERSIST', KEYS[1]) end
return 1`);

/** SADD member (ARGV[2]) then sets the TTL (ARGV[1] ms, 0 = none). */
export const SET_ADD_TTL = script(`
redis.call('SADD', KEYS[1], ARGV[2])
if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) else redis.call('PERSIST', KEYS[1]) end
return 1`);

/** Sets the TTL of an existing key (ARGV[1] ms, 0 = remove it); 1 when the key exists. */
export const EXPIRE_OR_PERSIST = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) else redis.call('PERSIST', KEYS[1]) end
return 1`);

/** EVALSHA, falling back to EVAL once when the server does not know the script yet. */
export async function runScript(client: Redis | Cluster, s: LuaScript, key: string, args: Array<string | number>): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, 1, key, ...args);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return client.eval(s.lua, 1, key, ...args);
    throw err;
  }
}
