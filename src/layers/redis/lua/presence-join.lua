-- Enters a channel in a group's presence list (issue 16), or replaces its info on a re-join (joinedAt kept), unless
-- the list already holds ARGV[4] entries: the count check and the write are one step, so concurrent joins from
-- several processes never pass the bound. Stale entries count until pruned (presence-prune.lua): the caller prunes
-- and tries once more on 'full'.
-- KEYS[1]  the group's presence hash: channel -> `<joinedAt ms> <refreshedAt ms> <info JSON>`
-- KEYS[2]  the channel's owner-presence set (groups where its process has entries), or the hash again for a
--          channel without a process (not `…!…`): then nothing is recorded
-- ARGV[1]  channel name
-- ARGV[2]  now, unix ms
-- ARGV[3]  info, JSON
-- ARGV[4]  maxPresence
-- ARGV[5]  group name (recorded in KEYS[2])
-- ARGV[6]  TTL of both keys, ms (groupExpiryMs: an entry lives that long after its last join)
-- Returns  {state, joinedAt}: state 'joined', 'rejoined' or 'full' (joinedAt 0)
local hash, owner = KEYS[1], KEYS[2]
local channel, now = ARGV[1], ARGV[2]
local joinedAt = now
local state = 'joined'
local previous = redis.call('HGET', hash, channel)
if previous then
  joinedAt = string.match(previous, '^(%d+) ')
  state = 'rejoined'
elseif redis.call('HLEN', hash) >= tonumber(ARGV[4]) then
  return {'full', 0}
end
redis.call('HSET', hash, channel, joinedAt .. ' ' .. now .. ' ' .. ARGV[3])
redis.call('PEXPIRE', hash, ARGV[6])
if owner ~= hash then
  redis.call('SADD', owner, ARGV[5])
  redis.call('PEXPIRE', owner, ARGV[6])
end
return {state, tonumber(joinedAt)}
