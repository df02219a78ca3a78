-- Adds a channel to a history group (or refreshes its membership), and with a position to recover from, reads
-- what it missed, in the same call: a send either ran before (and is in what this returns) or after (and finds
-- the channel a member), so the two meet with no gap and no duplicate.
-- KEYS[1]  the group's Switchyard members (keys.ts `historyMembersName`: channels_redis' group format)
-- KEYS[2]  the owner-groups set of the channel's owner (keys.ts `ownerGroups`)
-- KEYS[3]  the group as channels_redis sees it (gets the proxy member)
-- KEYS[4]  the history: sorted set scored by offset, members `<sent ms>|<payload>`
-- KEYS[5]  the position: hash { epoch, offset }
-- ARGV[1]  channel name; ARGV[2] now, unix seconds (float); ARGV[3] now, ms
-- ARGV[4]  group expiry, ms (TTL of KEYS[1..3])
-- ARGV[5]  the owner-groups entry: the members' name (`<group>:members`); ARGV[6] the proxy member
-- ARGV[7]  the epoch for a group that has none; ARGV[8] position TTL, ms
-- ARGV[9]  history size; ARGV[10] history TTL, ms
-- ARGV[11] '1' to recover, else '0'; ARGV[12] the offset to recover from; ARGV[13] its epoch
-- Returns  {offset, epoch, recovered: 1, 0 (nothing replayed), or -1 (no recovery asked), payload, ...}: with
--          recovered 1, the payloads of every offset after ARGV[12], oldest first
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
local epoch = historyEpoch(KEYS[5], KEYS[4], ARGV[7], ARGV[8], true)
local offset = tonumber(redis.call('HGET', KEYS[5], 'offset'))
if ARGV[11] ~= '1' then
  return {offset, epoch, -1}
end
local from = tonumber(ARGV[12])
if ARGV[13] ~= epoch or from > offset then
  return {offset, epoch, 0}
end
if from == offset then
  return {offset, epoch, 1}
end
trimHistory(KEYS[4], tonumber(ARGV[9]), tonumber(ARGV[3]) - tonumber(ARGV[10]))
local missed = historyAfter(KEYS[4], from, '')
if #missed ~= offset - from then
  return {offset, epoch, 0}
end
local reply = {offset, epoch, 1}
for _, payload in ipairs(missed) do
  table.insert(reply, payload)
end
return reply
