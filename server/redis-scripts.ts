// The Lua side of the Redis log. Each script is one atomic step on ONE topic's keys (they share a
// hash tag, so a cluster keeps them in one slot): the idempotency check, the append, retention
// and the fan-out notice happen together, or not at all. A check outside the script could lose
// an event on a crash between two steps, or let two nodes take the same cursor.
//
// Keys of topic T (prefix P): `{P:T}:s` the stream, whose entry IDs are the cursors (`<n>-0`,
// fields p = payload, t = published at ms); `{P:T}:m` the meta hash (e = epoch, h = head);
// `{P:T}:k:<principal>` idempotency key → "<cursor> <epoch>", `{P:T}:a:<principal>` key → when.
// A missing meta hash means the topic's data is gone (FLUSHALL, a restart without persistence,
// a failover to an empty replica): the next script to touch it starts a new epoch (from the
// caller's candidate) and drops whatever stream was left, so a cursor is never reused.

const PRELUDE = `
local function ensure_epoch(stream, meta, candidate, empty_ttl)
  local e = redis.call('HGET', meta, 'e')
  if e then return e end
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'e', candidate, 'h', 0)
  redis.call('PEXPIRE', meta, empty_ttl)
  return candidate
end

-- Entries are in time order: drop the front ones published before cutoff. Looks at one entry
-- when none is due (every append comes here).
local function trim_age(stream, cutoff)
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
  if not first or tonumber(first[2][4]) >= cutoff then return end
  while true do
    local batch = redis.call('XRANGE', stream, '-', '+', 'COUNT', 100)
    if #batch == 0 then return end
    for i = 1, #batch do
      if tonumber(batch[i][2][4]) >= cutoff then
        if i > 1 then redis.call('XTRIM', stream, 'MINID', batch[i][1]) end
        return
      end
    end
    local last = batch[#batch][1]
    redis.call('XTRIM', stream, 'MINID', string.sub(last, 1, string.find(last, '-', 1, true) - 1) .. '-1')
    if #batch < 100 then return end
  end
end
`;

/**
 * KEYS stream, meta, key hash, key times. ARGV payload, now, candidate epoch, max events,
 * max age ms, meta ttl ms, empty meta ttl ms, channel, key ("" = none), key max age ms, max keys.
 * → {epoch, cursor, 0} appended, or {epoch, cursor, 1, payload?, at?} a duplicate.
 */
export const APPEND = `${PRELUDE}
local stream, meta, khash, ktimes = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = tonumber(ARGV[2])
local epoch = ensure_epoch(stream, meta, ARGV[3], ARGV[7])
local key = ARGV[9]
if key ~= '' then
  local expired = redis.call('ZRANGEBYSCORE', ktimes, '-inf', now - tonumber(ARGV[10]), 'LIMIT', 0, 1000)
  if #expired > 0 then
    redis.call('HDEL', khash, unpack(expired))
    redis.call('ZREM', ktimes, unpack(expired))
  end
  local seen = redis.call('HGET', khash, key)
  if seen then
    local sep = string.find(seen, ' ', 1, true)
    local cursor = string.sub(seen, 1, sep - 1)
    if string.sub(seen, sep + 1) == epoch then
      local hit = redis.call('XRANGE', stream, cursor .. '-0', cursor .. '-0')[1]
      if hit then return {epoch, cursor, 1, hit[2][2], hit[2][4]} end
      return {epoch, cursor, 1}
    end
  end
end
local head = redis.call('HINCRBY', meta, 'h', 1)
redis.call('XADD', stream, 'MAXLEN', ARGV[4], head .. '-0', 'p', ARGV[1], 't', ARGV[2])
trim_age(stream, now - tonumber(ARGV[5]))
redis.call('PEXPIRE', stream, ARGV[5])
redis.call('PEXPIRE', meta, ARGV[6])
if key ~= '' then
  redis.call('HSET', khash, key, head .. ' ' .. epoch)
  redis.call('ZADD', ktimes, now, key)
  local over = redis.call('ZCARD', ktimes) - tonumber(ARGV[11])
  if over > 0 then
    local oldest = redis.call('ZRANGE', ktimes, 0, over - 1)
    redis.call('HDEL', khash, unpack(oldest))
    redis.call('ZREM', ktimes, unpack(oldest))
  end
  redis.call('PEXPIRE', khash, ARGV[10])
  redis.call('PEXPIRE', ktimes, ARGV[10])
end
redis.call('PUBLISH', ARGV[8], epoch .. '\\n' .. head .. '\\n' .. ARGV[2] .. '\\n' .. ARGV[1])
return {epoch, head, 0}
`;

/**
 * KEYS stream, meta. ARGV after, limit, now, max age ms, candidate epoch, empty meta ttl ms.
 * → {epoch, id1, payload1, at1, id2, …}: entries strictly after `after`, retained ones only.
 */
export const READ = `${PRELUDE}
local epoch = ensure_epoch(KEYS[1], KEYS[2], ARGV[5], ARGV[6])
trim_age(KEYS[1], tonumber(ARGV[3]) - tonumber(ARGV[4]))
local out = {epoch}
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '(' .. ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])) do
  out[#out + 1] = entry[1]
  out[#out + 1] = entry[2][2]
  out[#out + 1] = entry[2][4]
end
return out
`;

/**
 * KEYS stream, meta. ARGV now, max age ms, candidate epoch, empty meta ttl ms.
 * → {epoch, head, first retained id or false}. Keeps the meta of an empty topic a while longer.
 */
export const BOUNDS = `${PRELUDE}
local epoch = ensure_epoch(KEYS[1], KEYS[2], ARGV[3], ARGV[4])
trim_age(KEYS[1], tonumber(ARGV[1]) - tonumber(ARGV[2]))
local head = redis.call('HGET', KEYS[2], 'h') or '0'
if head == '0' then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
return {epoch, head, first and first[1] or false}
`;

/**
 * The periodic look at a topic a node serves. KEYS stream, meta. ARGV candidate epoch, empty
 * meta ttl ms, epoch the node saw, head the node saw. A head behind the one the node saw in
 * the same epoch means events were lost (a failover to a replica that lagged): the topic gets
 * a new epoch, so no client resumes across the hole. → {epoch, head}.
 */
export const CHECK = `${PRELUDE}
local epoch = ensure_epoch(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
local head = redis.call('HGET', KEYS[2], 'h') or '0'
if epoch == ARGV[3] and tonumber(head) < tonumber(ARGV[4]) then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[2], 'e', epoch)
end
if head == '0' then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return {epoch, head}
`;
