-- Writes one entry, its tag list and its record in every tag index, in one step; optionally fenced.
-- KEYS[1] entry, KEYS[2] fence, KEYS[3..] index of each tag (same order as the tags)
-- ARGV[1] base, ARGV[2] key, ARGV[3] value, ARGV[4] type hint ('' = null value), ARGV[5] ttl in ms (0 = none),
-- ARGV[6] fence read at the miss ('' = unfenced), ARGV[7] '1' to write only if the entry is absent,
-- ARGV[8..] tags
-- Returns { 1 } when written, { 0 } when refused by the fence, { 2, value, hint } when absent-only
-- and an entry exists.
local base, key = ARGV[1], ARGV[2]
local first_tag = 8

if ARGV[7] == '1' then
  local existing = redis.call('HMGET', KEYS[1], 'v', 'm')
  if existing[2] then
    return { 2, existing[1] or '', existing[2] }
  end
end

if ARGV[6] ~= '' then
  -- Refused when the whole cache ('*', also standing for forgotten records), the key or any tag
  -- was invalidated after the fence was read.
  local fence = tonumber(ARGV[6])
  local probes = { '*', 'k:' .. key }
  for i = first_tag, #ARGV do
    probes[#probes + 1] = 't:' .. ARGV[i]
  end
  for i = 1, #probes, 1000 do
    local scores = redis.call('ZMSCORE', KEYS[2], unpack(probes, i, math.min(i + 999, #probes)))
    for _, score in ipairs(scores) do
      if score and tonumber(score) > fence then
        return { 0 }
      end
    end
  end
end

local entry = KEYS[1]
local new_tags = {}
for i = first_tag, #ARGV do
  new_tags[ARGV[i]] = true
end
local previous = redis.call('HGET', entry, 'g')
if previous then
  for _, tag in ipairs(split_tags(previous)) do
    if not new_tags[tag] then
      redis.call('ZREM', base .. 't:' .. tag, key)
    end
  end
  redis.call('DEL', entry)
end

local tags = {}
for i = first_tag, #ARGV do
  tags[#tags + 1] = ARGV[i]
end
redis.call('HSET', entry, 'v', ARGV[3], 'm', ARGV[4], 'g', table.concat(tags, '\n'))

local ttl = tonumber(ARGV[5])
local now = now_ms()
local score = '+inf'
if ttl > 0 then
  redis.call('PEXPIRE', entry, ARGV[5])
  score = int(now + ttl)
end

for i = 3, #KEYS do
  local index = KEYS[i]
  redis.call('ZADD', index, score, key)
  -- Prune a bounded number of expired records, so that a busy tag does not grow with dead keys.
  local expired = redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. int(now), 'LIMIT', 0, 16)
  if #expired > 0 then
    redis.call('ZREM', index, unpack(expired))
  end
  -- The index lives exactly as long as its longest-lived entry.
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] == 'inf' then
    redis.call('PERSIST', index)
  else
    redis.call('PEXPIREAT', index, last[2])
  end
end
return { 1 }
