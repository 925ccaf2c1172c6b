-- Writes one entry (header with its tags, then the value) and its record in every tag index, in one
-- step; optionally fenced.
-- KEYS[1] entry, KEYS[2] fence, KEYS[3] generation, KEYS[4..] index of each tag (same order as the tags)
-- ARGV[1] base, ARGV[2] key, ARGV[3] entry as stored (see lib.lua), ARGV[4] ttl in ms (0 = none),
-- ARGV[5] fence read at the miss ('' = unfenced), ARGV[6] '1' to write only if the entry is absent,
-- ARGV[7..] tags
-- Returns { 1, created } when written, { 0, created } when refused by the fence, { 2, created, stored
-- entry } when absent-only and an entry exists; created is 1 when the slot's fence state was missing
-- (lost, or never created) and this script created it: the caller registers the cache again.
local base, key = ARGV[1], ARGV[2]
local first_tag = 7
local created = 0

if ARGV[5] ~= '' then
  -- Refused when the whole cache ('*', also standing for forgotten records), the key or any tag
  -- was invalidated after the fence was read. No '*' means the fence state was lost after the fence
  -- was read (or never existed): nothing proves the value fresh.
  local fence = tonumber(ARGV[5])
  local probes = { '*', 'k:' .. key }
  for i = first_tag, #ARGV do
    probes[#probes + 1] = 't:' .. ARGV[i]
  end
  for i = 1, #probes, 1000 do
    local scores = redis.call('ZMSCORE', KEYS[2], unpack(probes, i, math.min(i + 999, #probes)))
    if i == 1 and not scores[1] then
      ensure_fence(KEYS[3], KEYS[2])
      return { 0, 1 }
    end
    for _, score in ipairs(scores) do
      if score and tonumber(score) > fence then
        return { 0, 0 }
      end
    end
  end
else
  -- Unfenced: the fence state is kept in place all the same, so that the slot can be found after its
  -- registry entry was lost, and so that loads in flight during a loss are refused.
  local _, made = ensure_fence(KEYS[3], KEYS[2])
  created = made and 1 or 0
end

if ARGV[6] == '1' then
  local existing = redis.pcall('GET', KEYS[1])
  if existing and type(existing) ~= 'table' then
    return { 2, created, existing }
  end
end

local previous_eternal = false
local header = read_header(KEYS[1])
if header then
  -- Unlink the key from the tags it no longer carries; the records of kept tags are updated below.
  previous_eternal = is_eternal(header)
  local kept = {}
  for i = first_tag, #ARGV do
    kept[ARGV[i]] = true
  end
  for tag in string.gmatch(header, '\t([^\t]+)') do
    if not kept[tag] then
      local index = base .. 't:' .. tag
      redis.call('ZREM', index, key)
      if previous_eternal then
        follow_last_expiry(index)
      end
    end
  end
end

-- One expiry for the entry and its index records (PXAT): an invalidation that finds a record finds
-- its entry too, to the millisecond.
local ttl = tonumber(ARGV[4])
local now = now_ms()
local score = '+inf'
if ttl > 0 then
  score = int(now + ttl)
  redis.call('SET', KEYS[1], ARGV[3], 'PXAT', score)
else
  redis.call('SET', KEYS[1], ARGV[3])
end

for i = 4, #KEYS do
  local index = KEYS[i]
  local added = redis.call('ZADD', index, score, key) == 1
  if added then
    -- A new record: prune a bounded number of expired ones, so that a busy tag does not grow
    -- with dead keys.
    local expired = redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. int(now), 'LIMIT', 0, 16)
    if #expired > 0 then
      redis.call('ZREM', index, unpack(expired))
    end
  end
  -- The index lives as long as its longest-lived entry, and without TTL while it holds an entry
  -- that never expires.
  if ttl == 0 then
    redis.call('PERSIST', index)
  elseif not HAS_EXPIRE_GT then
    follow_last_expiry(index)
  elseif redis.call('PEXPIREAT', index, score, 'GT') == 0 and (added or previous_eternal)
      and redis.call('PTTL', index) == -1 then
    -- No TTL yet: a new index, or one that held this key's eternal entry. (An index that already held
    -- this key's expiring record has a TTL at least that long, or none because an eternal entry of
    -- another key is in it: either way it is right.)
    follow_last_expiry(index)
  end
end
return { 1, created }
