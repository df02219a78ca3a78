-- Reads a registry (workers or servers), dropping entries whose last report is older than the cutoff, in one step (a
-- worker or server reporting between a read and a delete must not lose its fresh entry).
-- KEYS[1]  the registry hash: worker or server id -> JSON `{ "report": {...}, "beatAt": <ms> }`
-- ARGV[1]  cutoff, unix ms: entries that beat before it are deleted
-- Returns  the remaining entries, flat: {id1, json1, id2, json2, ...}
local entries = redis.call('HGETALL', KEYS[1])
local cutoff = tonumber(ARGV[1])
local kept = {}
for i = 1, #entries, 2 do
  local ok, entry = pcall(cjson.decode, entries[i + 1])
  local beat = ok and type(entry) == 'table' and tonumber(entry.beatAt) or nil
  if beat == nil or beat < cutoff then
    redis.call('HDEL', KEYS[1], entries[i])
  else
    kept[#kept + 1] = entries[i]
    kept[#kept + 1] = entries[i + 1]
  end
end
return kept
