-- Which of some groups have members (issue 17): a task's end goes to its progress group only when someone may hear
-- it, and a worker asks about every task that ended in one turn of its event loop with one call (a group send per
-- task halved a Redis worker's rate). Reads only. A group whose memberships all expired still counts: the group
-- send that follows prunes them, so the answer errs towards sending, never towards silence.
-- KEYS     the groups (keys.ts `group`), any number, all on this shard
-- Returns  {1 or 0 per key, in KEYS order}: 1 when the group's sorted set exists
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = redis.call('EXISTS', key)
end
return out
