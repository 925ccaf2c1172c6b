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
local tags = {}
for i = first_tag, #ARGV do
  new_tags[ARGV[i]] = true
  tags[#tags + 1] = ARGV[i]
end
local previous = redis.call('HMGET', entry, 'g', 'x')
if previous[1] then
  local dropped = {}
  for _, tag in ipairs(split_tags(previous[1])) do
    if not new_tags[tag] then
      dropped[#dropped + 1] = tag
    end
  end
  unlink(base, key, table.concat(dropped, '\n'), previous[2], nil)
  redis.call('DEL', entry)
end

local ttl = tonumber(ARGV[5])
local now = now_ms()
local score = '+inf'
if ttl > 0 then
  redis.call('HSET', entry, 'v', ARGV[3], 'm', ARGV[4], 'g', table.concat(tags, '\n'))
  redis.call('PEXPIRE', entry, ARGV[5])
  score = int(now + ttl)
else
  redis.call('HSET', entry, 'v', ARGV[3], 'm', ARGV[4], 'g', table.concat(tags, '\n'), 'x', '1')
end

for i = 3, #KEYS do
  local index = KEYS[i]
  if redis.call('ZADD', index, score, key) == 1 then
    -- A new record: prune a bounded number of expired ones, so that a busy tag does not grow
    -- with dead keys.
    local expired = redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. int(now), 'LIMIT', 0, 16)
    if #expired > 0 then
      redis.call('ZREM', index, unpack(expired))
    end
  end
  -- The index lives exactly as long as its longest-lived entry.
  follow_last_expiry(index)
end
return { 1 }
