-- What a worker does each time tasks finish, in one round trip: ends attempts (ack, retry or bury), then claims
-- up to N more messages of the channel (first moving its due delayed messages onto the queue, then popping from
-- the queue into the in-flight set with a visibility deadline). One script, so a worker dying at any instant
-- leaves each message queued, in flight (recovered after its deadline) or done, never lost.
-- Only the holder of a claim may retry or bury it: a claim recovered as stalled belongs to whoever claims it
-- next. An ack always records success, so a recovered copy is skipped when claimed (idempotency). Repeating a
-- call's settlements is harmless (the claim is gone the second time; an ack only rewrites the same state).
-- KEYS[1]  the channel queue (channels_redis sorted set, scored by send time in seconds)
-- KEYS[2]  the in-flight set: claim -> deadline (ms)     KEYS[3]  stalled flags (sorted set)
-- KEYS[4]  the channel's delayed set: payload -> due (ms)  KEYS[5]  the delayed index: channel -> earliest due (ms)
-- KEYS[6]  dead letters (id -> died at, ms; each letter is the hash ARGV[12] .. id)
-- KEYS[7]  set of channels with dead letters
-- KEYS[8]  the channel's task-channel marker (keys.ts `taskChannel`)   KEYS[9]  the channel's wake marker
-- KEYS[10] the channel's rate limit (hash max, perMs; absent: none)  KEYS[11] its sliding-window log (see below)
-- KEYS[12] the flow outbox of this shard (keys.ts `flowOutbox`; see Flows below)
-- ARGV[1]  now, ms                ARGV[2]  task state TTL, ms          ARGV[3]  channel name
-- ARGV[4]  dead letters kept per channel
-- ARGV[5]  most messages to claim (0: settle only)     ARGV[6]  deadline for the claims, ms
-- ARGV[7]  taskExpiryMs in seconds (float), or '' for none: a queued message older than this is claimed flagged
--          expired (the worker dead-letters it as `expired`); nothing is ever dropped here
-- ARGV[8]  14 random bytes: with a 2-byte index they make each claim's 16-byte token, stored in front of the
--          payload in the in-flight set, so a claim recovered and claimed again is a different member (a late
--          worker's ack, retry or release cannot touch the new claim)
-- ARGV[9]  task state key prefix (keys.ts `taskStatePrefix`: a task's state hash is the prefix .. its id, on
--          this channel's shard)
-- ARGV[10] the settlements, packed (packed-fields.ts: each field a 4-byte big-endian length, then its bytes),
--          six fields each: 'ack' | 'retry' | 'bury'; the claim (token .. payload); the task id; the error
--          message ('' for ack); retry: due time (ms), bury: the stack ('' if none), ack: the JSON result (''
--          if not stored); bury: the dead letter id, retry: 'uncounted' to give the attempt back (a
--          RateLimitedError), '' otherwise. Packed because a batch of them as separate
--          arguments cost the worker more CPU to encode than anything else it did per task (issue 8).
-- ARGV[11] the random prefix length of plain msgpack payloads, or -1 when payloads are not plain msgpack
--          (JSON, encrypted): see "Starting claims" below
-- ARGV[12] the channel's dead letter key prefix (keys.ts `deadLetterPrefix`)
-- Returns  {{held (1|0) per settlement}, number of claims flagged expired, the claims, {flow step tag, its
--          outbox score, ...} for the flow steps this call ended}; held is 1 if a
--          retry or bury still held its claim, and always 1 for an ack. The claims are packed as ARGV[10] is,
--          three fields each, in queue order: the claim (token .. payload), the task id, and '<attempt> <first
--          attempt at, ms> <already succeeded: 1|0> <expired: 1|0>'. Task id '' means not started here (see
--          below): the worker decodes the payload and starts it with task-start.lua, unless it is expired.
--          Packed for the reason ARGV[10] is.
-- A claiming call also marks the channel a task channel (KEYS[8]) and removes any TTL from its queue: a
-- channels_redis send sets one (its expiry) on every send, and a queue whose workers are all down must not vanish.
-- Task states: an unfinished task's (running, retrying) has no TTL, however long it waits; a finished one's
-- (succeeded, dead) lives ARGV[2] ms. A succeeded state is final within that window: a retry or bury of
-- another copy still requeues or buries that copy, but leaves the state (and its TTL) as it is, so the copy is
-- claimed as already succeeded and acked unrun (task-requeue.lua keeps it too; memory: task-state-change.ts).
-- Cancelled tasks (task-cancel.lua): their state stays `cancelled`, whatever settles them; a retry or bury of
-- one only drops its claim (never retried, never dead-lettered); a claim skips (drops) their queued messages. The
-- state's TTL (ARGV[2]) starts then.
-- Starting claims: a task's id is its message's `idempotencyKey` (a non-empty string at the top level), else
-- the first 32 hex digits of the SHA-1 of the stored payload (redis-task-store.ts `taskIdOf`). For plain
-- msgpack payloads this script reads that key itself and records the start of the attempt as task-start.lua
-- does, saving the worker a second round trip per batch (issue 8); the worker checks every id against its own
-- decoding. A payload it cannot read (not a map, an ext type, truncated) is left for the worker.
-- Rate limit (issue 17 item 2): with KEYS[10] set, a claim starts at most max - (starts in the last perMs) tasks,
-- for every worker together, since they all claim here. Each claim is logged in KEYS[11] at Redis' clock (TIME,
-- not ARGV[1]: workers' clocks may differ), so no perMs window ever holds more than max starts.
-- Flows (issue 17, flow-driver.ts): a chain's or chord's step carries its tag in its state (`flow`, set by
-- send.lua). When such a task ends here (succeeded, dead, or its cancelled claim dropped), its tag goes into the
-- outbox in the same step, so the end reaches its flow even if the worker dies before moving it on: the worker
-- moves the flow on right after this call and removes the entry (flow-outbox.lua); any worker's sweep does it
-- otherwise. A tag already there gets a higher score, so a removal that read the old one leaves it.
local function unpackFields(blob)
  local fields, pos = {}, 1
  while pos <= #blob do
    local length = struct.unpack('>I4', blob, pos)
    table.insert(fields, string.sub(blob, pos + 4, pos + 3 + length))
    pos = pos + 4 + length
  end
  return fields
end

-- Runs `command key member...` over `members` in chunks (Lua's unpack has a stack limit): one command per
-- batch instead of one per task, which is most of what a claim or an ack costs Redis.
local function each(command, key, members)
  for from = 1, #members, 1000 do
    redis.call(command, key, unpack(members, from, math.min(from + 999, #members)))
  end
end

local now = tonumber(ARGV[1])
local held = {}
local flows = {}
local function tellFlow(tag)
  local old = redis.call('ZSCORE', KEYS[12], tag)
  local score = now
  if old and tonumber(old) >= now then score = tonumber(old) + 1 end
  redis.call('ZADD', KEYS[12], score, tag)
  table.insert(flows, tag)
  table.insert(flows, string.format('%d', score))
end
local buried = false
-- Stalled flags are rare (a worker late to renew): skip removing them one by one when there are none.
local flagged = redis.call('EXISTS', KEYS[3]) == 1
local settlements = unpackFields(ARGV[10])
-- Acks first, together: an ack records success whether or not its claim was still held.
local acked = {}
for i = 1, #settlements / 6 do
  if settlements[6 * (i - 1) + 1] == 'ack' then table.insert(acked, settlements[6 * (i - 1) + 2]) end
end
each('ZREM', KEYS[2], acked)
if flagged then each('ZREM', KEYS[3], acked) end
for i = 1, #settlements / 6 do
  local base = 6 * (i - 1)
  local action, claim = settlements[base + 1], settlements[base + 2]
  local err, extra = settlements[base + 4], settlements[base + 5]
  local state = ARGV[9] .. settlements[base + 3]
  local owned = 1
  if action ~= 'ack' then
    owned = redis.call('ZREM', KEYS[2], claim)
    if flagged then redis.call('ZREM', KEYS[3], claim) end
  end
  held[i] = owned
  local known = redis.call('HMGET', state, 'status', 'flow')
  local cancelled = known[1] == 'cancelled'
  if known[2] and (cancelled or action == 'ack' or (action == 'bury' and owned == 1)) then tellFlow(known[2]) end
  if cancelled then
    redis.call('PEXPIRE', state, ARGV[2])
  elseif action == 'ack' then
    redis.call('HSET', state, 'status', 'succeeded', 'updatedAt', ARGV[1], 'channel', ARGV[3])
    if extra ~= '' then redis.call('HSET', state, 'result', extra) end
    redis.call('PEXPIRE', state, ARGV[2])
  elseif owned == 1 then
    local payload = string.sub(claim, 17)
    if action == 'retry' then
      redis.call('ZADD', KEYS[4], extra, payload)
      local current = redis.call('ZSCORE', KEYS[5], ARGV[3])
      if not current or tonumber(current) > tonumber(extra) then redis.call('ZADD', KEYS[5], extra, ARGV[3]) end
      -- Another copy succeeded: this one is requeued, to be acked unrun when claimed (see Task states).
      if redis.call('HGET', state, 'status') ~= 'succeeded' then
        redis.call('HSET', state, 'status', 'retrying', 'updatedAt', ARGV[1], 'lastError', err)
        redis.call('PERSIST', state)
        if settlements[base + 6] == 'uncounted' and tonumber(redis.call('HGET', state, 'attempts') or '0') > 0 then
          redis.call('HINCRBY', state, 'attempts', -1)
        end
      end
    else
      local id = settlements[base + 6]
      -- A task never started (undecodable, expired in the queue) has no state yet: the worker's id stands.
      local fields = redis.call('HMGET', state, 'attempts', 'firstAttemptAt', 'taskId', 'status')
      redis.call('HSET', ARGV[12] .. id, 'payload', payload, 'error', err, 'stack', extra,
        'attempts', fields[1] or '0', 'firstAttemptAt', fields[2] or ARGV[1], 'diedAt', ARGV[1],
        'taskId', fields[3] or settlements[base + 3])
      redis.call('ZADD', KEYS[6], ARGV[1], id)
      -- The copy is buried, but a success of another copy stands (see Task states).
      if fields[4] ~= 'succeeded' then
        redis.call('HSET', state, 'status', 'dead', 'updatedAt', ARGV[1], 'lastError', err, 'channel', ARGV[3],
          'taskId', fields[3] or settlements[base + 3])
        redis.call('PEXPIRE', state, ARGV[2])
      end
      buried = true
    end
  end
end
if buried then
  redis.call('SADD', KEYS[7], ARGV[3])
  local overflow = redis.call('ZCARD', KEYS[6]) - tonumber(ARGV[4])
  if overflow > 0 then
    for _, id in ipairs(redis.call('ZRANGE', KEYS[6], 0, overflow - 1)) do
      redis.call('DEL', ARGV[12] .. id)
    end
    redis.call('ZREMRANGEBYRANK', KEYS[6], 0, overflow - 1)
  end
end

local byte, sub = string.byte, string.sub

-- Big-endian unsigned integer of n bytes at pos.
local function uint(s, pos, n)
  local v = 0
  for i = 0, n - 1 do v = v * 256 + byte(s, pos + i) end
  return v
end

local skip
-- The msgpack value at pos: returns the position after it, and for str and bin values the bytes and the kind.
local function read(s, pos)
  local b = byte(s, pos)
  if b == nil then error('truncated') end
  if b <= 0x7f or b >= 0xe0 or b == 0xc0 or b == 0xc2 or b == 0xc3 then return pos + 1 end
  local n, at, kind
  if b >= 0xa0 and b <= 0xbf then n, at, kind = b - 0xa0, pos + 1, 'str'
  elseif b == 0xd9 then n, at, kind = uint(s, pos + 1, 1), pos + 2, 'str'
  elseif b == 0xda then n, at, kind = uint(s, pos + 1, 2), pos + 3, 'str'
  elseif b == 0xdb then n, at, kind = uint(s, pos + 1, 4), pos + 5, 'str'
  elseif b == 0xc4 then n, at, kind = uint(s, pos + 1, 1), pos + 2, 'bin'
  elseif b == 0xc5 then n, at, kind = uint(s, pos + 1, 2), pos + 3, 'bin'
  elseif b == 0xc6 then n, at, kind = uint(s, pos + 1, 4), pos + 5, 'bin'
  elseif b >= 0x80 and b <= 0x8f then return skip(s, pos + 1, 2 * (b - 0x80))
  elseif b >= 0x90 and b <= 0x9f then return skip(s, pos + 1, b - 0x90)
  elseif b == 0xdc then return skip(s, pos + 3, uint(s, pos + 1, 2))
  elseif b == 0xdd then return skip(s, pos + 5, uint(s, pos + 1, 4))
  elseif b == 0xde then return skip(s, pos + 3, 2 * uint(s, pos + 1, 2))
  elseif b == 0xdf then return skip(s, pos + 5, 2 * uint(s, pos + 1, 4))
  elseif b == 0xcc or b == 0xd0 then return pos + 2
  elseif b == 0xcd or b == 0xd1 then return pos + 3
  elseif b == 0xce or b == 0xd2 or b == 0xca then return pos + 5
  elseif b == 0xcf or b == 0xd3 or b == 0xcb then return pos + 9
  else error('unsupported') end
  if at + n - 1 > #s then error('truncated') end
  return at + n, sub(s, at, at + n - 1), kind
end
skip = function(s, pos, count)
  for _ = 1, count do pos = read(s, pos) end
  return pos
end

-- The task id of a stored payload whose msgpack map starts at pos, or nil when it cannot be read here.
local function taskIdOf(payload, pos)
  local b = byte(payload, pos)
  local count
  if b ~= nil and b >= 0x80 and b <= 0x8f then count, pos = b - 0x80, pos + 1
  elseif b == 0xde then count, pos = uint(payload, pos + 1, 2), pos + 3
  elseif b == 0xdf then count, pos = uint(payload, pos + 1, 4), pos + 5
  else return nil end
  local key = false
  for _ = 1, count do
    -- Keys may be str or bin (the worker reads bytes keys as text); the last duplicate wins, as in the worker.
    local valueAt, name = read(payload, pos)
    local after, value, kind = read(payload, valueAt)
    if name == 'idempotencyKey' then key = kind == 'str' and value ~= '' and value end
    pos = after
  end
  if pos ~= #payload + 1 then return nil end
  return key or sub(redis.sha1hex(payload), 1, 32)
end

local max = tonumber(ARGV[5])
if max <= 0 then return {held, 0, '', flows} end
if redis.call('EXISTS', KEYS[8]) == 0 then redis.call('SET', KEYS[8], '1') end
redis.call('PERSIST', KEYS[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 1000)
for _, payload in ipairs(due) do
  redis.call('ZADD', KEYS[1], nextScore(KEYS[1], now / 1000), payload)
  redis.call('ZREM', KEYS[4], payload)
end
if #due > 0 then
  local nextDue = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')[2]
  if nextDue then redis.call('ZADD', KEYS[5], nextDue, ARGV[3]) else redis.call('ZREM', KEYS[5], ARGV[3]) end
end
local limit, clock = redis.call('HMGET', KEYS[10], 'max', 'perMs'), nil
if limit[1] then
  local time = redis.call('TIME')
  clock = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', KEYS[11], '-inf', clock - tonumber(limit[2]))
  max = math.min(max, tonumber(limit[1]) - redis.call('ZCARD', KEYS[11]))
  -- Over the limit: the tasks stay queued (the worker asks task-rate-wait.lua how long to wait).
  if max <= 0 then return {held, 0, '', flows} end
end
local cutoff = nil
if ARGV[7] ~= '' then cutoff = now / 1000 - tonumber(ARGV[7]) end
local expired = 0
local popped = redis.call('ZPOPMIN', KEYS[1], max)
-- Tasks left: wake another idle worker (each wake-up is taken by one blocked reader). Drained: the senders'
-- marker has served its purpose (a send after this adds it again).
if redis.call('ZCARD', KEYS[1]) > 0 then redis.call('ZADD', KEYS[9], 0, 'w') else redis.call('DEL', KEYS[9]) end
local prefixBytes = tonumber(ARGV[11])
local out, inflight = {}, {}
local function put(claim, id, meta)
  out[#out + 1] = struct.pack('>I4', #claim) .. claim
  out[#out + 1] = struct.pack('>I4', #id) .. id
  out[#out + 1] = struct.pack('>I4', #meta) .. meta
end
for i = 1, #popped, 2 do
  local n = (i - 1) / 2
  local payload = popped[i]
  local claim = ARGV[8] .. string.char(math.floor(n / 256) % 256, n % 256) .. payload
  local ok, id = false, nil
  if prefixBytes >= 0 then ok, id = pcall(taskIdOf, payload, prefixBytes + 1) end
  if cutoff ~= nil and tonumber(popped[i + 1]) < cutoff then
    -- Queue scores are send times: the oldest come first, and these waited past taskExpiryMs. Not started:
    -- the worker buries them as `expired`.
    expired = expired + 1
    table.insert(inflight, ARGV[6])
    table.insert(inflight, claim)
    put(claim, '', '0 0 0 1')
  elseif not ok or not id then
    table.insert(inflight, ARGV[6])
    table.insert(inflight, claim)
    put(claim, '', '0 0 0 0')
  else
    -- As task-start.lua: count the attempt unless the task already succeeded (then report it, to be acked
    -- without running: idempotency).
    local key = ARGV[9] .. id
    local state = redis.call('HMGET', key, 'status', 'attempts', 'firstAttemptAt')
    local first = state[3] or ARGV[1]
    local attempt, succeeded = tonumber(state[2] or '0'), 1
    if state[1] == 'cancelled' then
      -- Cancelled while queued: dropped, never run; its state starts to expire.
      redis.call('PEXPIRE', key, ARGV[2])
    elseif state[1] ~= 'succeeded' then
      attempt, succeeded = attempt + 1, 0
      redis.call('HSET', key, 'status', 'running', 'updatedAt', ARGV[1], 'channel', ARGV[3], 'taskId', id,
        'firstAttemptAt', first, 'attempts', attempt)
      redis.call('PERSIST', key)
    end
    if state[1] ~= 'cancelled' then
      table.insert(inflight, ARGV[6])
      table.insert(inflight, claim)
      put(claim, id, string.format('%d %s %d 0', attempt, first, succeeded))
    end
  end
end
if clock ~= nil and #inflight > 0 then
  local log = {}
  for i = 2, #inflight, 2 do
    table.insert(log, clock)
    table.insert(log, string.sub(inflight[i], 1, 16))
  end
  for from = 1, #log, 1000 do redis.call('ZADD', KEYS[11], unpack(log, from, math.min(from + 999, #log))) end
  redis.call('PEXPIRE', KEYS[11], limit[2])
end
-- Score and member pairs: an even chunk size keeps them together.
for from = 1, #inflight, 1000 do
  redis.call('ZADD', KEYS[2], unpack(inflight, from, math.min(from + 999, #inflight)))
end
return {held, expired, table.concat(out), flows}
