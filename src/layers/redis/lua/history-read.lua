-- Reads a history group's kept messages and its position together (groupHistory).
-- KEYS[1]  the history: sorted set scored by offset, members `<sent ms>|<payload>`
-- KEYS[2]  the position: hash { epoch, offset }
-- ARGV[1]  the epoch for a group that has none; ARGV[2] position TTL, ms
-- ARGV[3]  history size; ARGV[4] history TTL, ms; ARGV[5] now, ms
-- ARGV[6]  only messages after this offset ('' for the latest ARGV[7])
-- ARGV[7]  most messages returned
-- Returns  {offset, epoch, payload, ...}: oldest first
local epoch = historyEpoch(KEYS[2], KEYS[1], ARGV[1], ARGV[2], false)
local offset = tonumber(redis.call('HGET', KEYS[2], 'offset'))
trimHistory(KEYS[1], tonumber(ARGV[3]), tonumber(ARGV[5]) - tonumber(ARGV[4]))
local from = ARGV[6]
if from == '' then
  from = math.max(0, offset - tonumber(ARGV[7]))
end
local reply = {offset, epoch}
for _, payload in ipairs(historyAfter(KEYS[1], from, ARGV[7])) do
  table.insert(reply, payload)
end
return reply
