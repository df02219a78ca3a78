-- Makes a channel a task channel for every process on the prefix (a worker serving it, or a sender whose
-- `taskChannels` names it): Switchyard's sends then keep its tasks waiting, and its queue loses any TTL (a
-- channels_redis send sets one on every send; a queue whose workers are all down must not vanish with it).
-- KEYS[1]  the channel's task-channel marker (no TTL)
-- KEYS[2]  the channel's queue
-- Returns  1
redis.call('SET', KEYS[1], '1')
redis.call('PERSIST', KEYS[2])
return 1
