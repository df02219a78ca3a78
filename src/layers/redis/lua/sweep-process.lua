-- One bounded step of sweeping a dead process (claimed by sweep.lua): its members leave the groups its
-- owner-groups set names, each group's entry leaving the set once done; when the set is empty, its queue and its
-- sweeping entry go. The caller loops with the cursors returned. A step visits about ARGV[6] set entries and group
-- members, whatever the set's or a group's size: a group larger than that is walked with ZSCAN over several calls.
-- KEYS[1]  the registry hash (process queue key -> last heartbeat, ms)
-- KEYS[2]  the sweeping hash (process queue key -> `<lease until, ms> <sweeper's queue key>`)
-- KEYS[3]  the dead process's owner-groups set
-- KEYS[4]  the dead process's queue (its field in both hashes)
-- ARGV[1]  now, ms
-- ARGV[2]  lease, ms (renewed by each step)
-- ARGV[3]  the caller's own process queue key (the lease holder)
-- ARGV[4]  group key prefix (keys.ts `groupPrefix`): the groups are found in KEYS[3] as the script runs
-- ARGV[5]  the dead process's non-local name (`specific.<id>!`): its members start with it
-- ARGV[6]  budget: set entries and group members this step may visit
-- ARGV[7]  owner-groups SSCAN cursor, '0' to start
-- ARGV[8]  a group too large for one step, being walked ('' if none); ARGV[9] its ZSCAN cursor ('0' to start)
-- Returns  {members removed, state, set cursor, group, group cursor}: state 'more' (call again with the cursors),
--          'done' (swept, or nothing left to do: the process came back or another sweeper finished), or 'busy'
--          (another process holds a live lease)
local registry, sweeping, owner, queue = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = tonumber(ARGV[1])
if redis.call('HEXISTS', registry, queue) == 1 then
  -- It came back (a stall, not a death): it re-adds its memberships on seeing its registration gone.
  redis.call('HDEL', sweeping, queue)
  return {0, 'done', '0', '', '0'}
end
local held = redis.call('HGET', sweeping, queue)
if held == false then
  return {0, 'done', '0', '', '0'}
end
local untilMs, holder = string.match(held, '^(%d+) (.*)$')
if untilMs ~= nil and holder ~= ARGV[3] and tonumber(untilMs) > now then
  return {0, 'busy', '0', '', '0'}
end
redis.call('HSET', sweeping, queue, (now + tonumber(ARGV[2])) .. ' ' .. ARGV[3])

local groupPrefix, nonLocal = ARGV[4], ARGV[5]
local budget = tonumber(ARGV[6])
local pattern = string.gsub(nonLocal, '[%*%?%[%]\\]', '\\%0') .. '*'
local removed = 0

-- A group that fits the budget, in one go.
local function sweepWhole(group, key, size)
  budget = budget - size - 1
  if size > 0 then
    for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
      if string.sub(member, 1, #nonLocal) == nonLocal then
        removed = removed + redis.call('ZREM', key, member)
      end
    end
  end
  redis.call('SREM', owner, group)
end

-- One ZSCAN step through a larger group, using the rest of the budget; returns the cursor ('0': group done).
local function sweepStep(group, key, cursor)
  local reply = redis.call('ZSCAN', key, cursor, 'MATCH', pattern, 'COUNT', math.max(budget, 1))
  budget = 0
  local found = reply[2]
  for i = 1, #found, 2 do
    removed = removed + redis.call('ZREM', key, found[i])
  end
  if reply[1] == '0' then
    redis.call('SREM', owner, group)
  end
  return reply[1]
end

local setCursor = ARGV[7]
if ARGV[8] ~= '' then
  local group, cursor = ARGV[8], ARGV[9]
  local key = groupPrefix .. group
  local size = redis.call('ZCARD', key)
  if cursor == '0' and size <= budget then
    sweepWhole(group, key, size)
  else
    cursor = sweepStep(group, key, cursor)
    if cursor ~= '0' then
      return {removed, 'more', setCursor, group, cursor}
    end
  end
end
while budget > 0 do
  local from = setCursor
  local reply = redis.call('SSCAN', owner, from, 'COUNT', 100)
  budget = budget - 1
  for _, group in ipairs(reply[2]) do
    local key = groupPrefix .. group
    local size = redis.call('ZCARD', key)
    if size > budget then
      -- The next step starts with this group, then reads this batch again (what was swept is gone from it).
      return {removed, 'more', from, group, '0'}
    end
    sweepWhole(group, key, size)
  end
  setCursor = reply[1]
  if setCursor == '0' and redis.call('EXISTS', owner) == 0 then
    redis.call('UNLINK', queue)
    redis.call('HDEL', sweeping, queue)
    return {removed, 'done', '0', '', '0'}
  end
end
return {removed, 'more', setCursor, '', '0'}
