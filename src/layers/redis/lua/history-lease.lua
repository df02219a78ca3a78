-- Takes or renews the lease of the history pump (history-pump.ts): one process at a time takes Django's group
-- sends out of the proxy queue, so they are sequenced in the order they came.
-- KEYS[1]  the lease (a string: the holder's token)
-- ARGV[1]  the caller's token; ARGV[2] lease, ms
-- Returns  1 when the caller holds the lease (taken or renewed), else 0
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
