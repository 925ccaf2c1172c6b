-- Records caches and their number of shards in the registry of a key prefix. A cache keeps the
-- largest number of shards any instance registered, so that invalidations cover every shard any
-- instance writes to.
-- KEYS[1] registry
-- ARGV[1] '1' to mark the registry complete (it was rebuilt from the keyspace), ARGV[2..] pairs of
-- cache name and number of shards
-- Returns, for each cache, the number of shards registered before (0 when none).
local previous = {}
for i = 2, #ARGV, 2 do
  local registered = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if registered < tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
  previous[#previous + 1] = registered
end
if ARGV[1] == '1' then
  redis.call('HSET', KEYS[1], '#complete', '1')
end
return previous
