-- Shared functions, prepended to every tagcache script when it is loaded.
--
-- Layout of one cache, all in the hash slot of {cache} (base = '<prefix>:{<cache>}:'):
--   base..'e:'..key     hash {v = JSON value, m = type hint ('' for null), g = tags joined by '\n',
--                         x = '1' when the entry never expires}
--   base..'t:'..tag     sorted set: member = key, score = the entry's expiry in ms ('+inf' without TTL)
--   base..'gen'         the cache's invalidation generation: server time in microseconds, strictly increasing
--   base..'fence'       sorted set: member = '*' | 'k:'..key | 't:'..tag, score = generation of its last invalidation
--   base..'detached'    set of detached tag indexes still being drained
--   base..'d:'..gen..':'..tag   a detached tag index, drained in bounded chunks
-- Every key a script touches is derived from base, so every script stays in one hash slot.

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- Lua numbers are doubles; write integers without exponent notation.
local function int(n)
  return string.format('%.0f', n)
end

local function split_tags(joined)
  local tags = {}
  for tag in string.gmatch(joined, '[^\n]+') do
    tags[#tags + 1] = tag
  end
  return tags
end

-- ZREM in chunks: unpack() is bounded by the Lua C stack.
local function zrem_all(key, members)
  for i = 1, #members, 1000 do
    redis.call('ZREM', key, unpack(members, i, math.min(i + 999, #members)))
  end
end

-- Sets an index's TTL to the expiry of its longest-lived entry; no TTL while it holds an entry
-- that never expires.
local function follow_last_expiry(index)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] == 'inf' then
    redis.call('PERSIST', index)
  elseif last[2] then
    redis.call('PEXPIREAT', index, last[2])
  end
end

-- Removes an entry's records from the indexes of its tags (but the one of skip_tag). When the entry
-- never expired, the indexes may now hold only expiring entries: their TTL follows again.
local function unlink(base, key, joined, eternal, skip_tag)
  for _, tag in ipairs(split_tags(joined)) do
    if tag ~= skip_tag then
      local index = base .. 't:' .. tag
      redis.call('ZREM', index, key)
      if eternal then
        follow_last_expiry(index)
      end
    end
  end
end

-- Removes one entry and its index records (but in the index of skip_tag, which the caller drops
-- whole). Returns 1 when the entry existed, 0 otherwise.
local function remove_entry(base, key, skip_tag)
  local entry = base .. 'e:' .. key
  local fields = redis.call('HMGET', entry, 'g', 'x')
  if not fields[1] then
    return 0
  end
  unlink(base, key, fields[1], fields[2], skip_tag)
  return redis.call('DEL', entry)
end

-- Raises and returns the cache's generation. It is derived from the server clock, so a lost
-- counter can never go back below the generation of an earlier invalidation.
local function next_generation(gen_key)
  local current = tonumber(redis.call('GET', gen_key) or '0')
  local generation = math.max(now_us(), current + 1)
  redis.call('SET', gen_key, int(generation))
  return generation
end

-- Records that 'members' were invalidated at 'generation'. Records older than the retention are
-- forgotten, a bounded number per call, but never lost: the newest forgotten generation is folded
-- into the cache-wide record '*', so a put whose fence is older than a forgotten record is refused
-- (an extra miss, never a stale value). The fence key has no TTL for the same reason.
local function raise_fence(fence_key, generation, members, retention_us)
  for i = 1, #members, 1000 do
    local args = {}
    for j = i, math.min(i + 999, #members) do
      args[#args + 1] = int(generation)
      args[#args + 1] = members[j]
    end
    redis.call('ZADD', fence_key, unpack(args))
  end
  local old = redis.call('ZRANGEBYSCORE', fence_key, '-inf', '(' .. int(generation - retention_us),
    'WITHSCORES', 'LIMIT', 0, 256)
  local forgotten = {}
  local floor = 0
  for i = 1, #old, 2 do
    if old[i] ~= '*' then
      forgotten[#forgotten + 1] = old[i]
      floor = math.max(floor, tonumber(old[i + 1]))
    end
  end
  if #forgotten > 0 then
    zrem_all(fence_key, forgotten)
    redis.call('ZADD', fence_key, 'GT', int(floor), '*')
  end
end
