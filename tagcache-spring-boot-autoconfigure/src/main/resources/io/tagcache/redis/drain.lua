-- Removes up to a chunk of the entries of a detached tag index.
-- An entry whose key is again in the live index of the tag was written after the invalidation
-- (its fence was newer) and is kept.
-- KEYS[1] detached index, KEYS[2] detached set
-- ARGV[1] base, ARGV[2] tag, ARGV[3] chunk size
-- Returns { removed, left }.
local base, tag = ARGV[1], ARGV[2]
local live = base .. 't:' .. tag
local keys = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)
local removed = 0
local rewritten = redis.call('EXISTS', live) == 1
for _, key in ipairs(keys) do
  if not (rewritten and redis.call('ZSCORE', live, key)) then
    removed = removed + remove_entry(base, key, nil)
  end
end
zrem_all(KEYS[1], keys)
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then
  redis.call('SREM', KEYS[2], KEYS[1])
end
return { removed, left }
