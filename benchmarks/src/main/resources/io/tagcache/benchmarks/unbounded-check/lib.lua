-- Shared functions, prepended to every tagcache script when it is loaded.
--
-- Layout of one cache, all in the hash slot of {cache} (base = '<prefix>:{<cache>}:'):
--   base..'e:'..key     string: a header line, then the JSON value. The header is '0' (the entry
--                         expires) or '1' (it never does), the type hint ('' for null), then '\t'..tag
--                         for each tag; a '\n' ends it. Tags and type hints hold no control character.
--   base..'t:'..tag     sorted set: member = key, score = the entry's expiry in ms ('+inf' without TTL)
--   base..'gen'         the cache's invalidation generation: server time in microseconds, strictly increasing
--   base..'fence'       sorted set: member = '*' | 'k:'..key | 't:'..tag, score = generation of its last invalidation;
--                         '*' exists from the moment the fence state is created (see ensure_fence)
--   base..'detached'    set of detached tag indexes still being drained
--   base..'d:'..gen..':'..tag   a detached tag index, drained in bounded chunks
--   base..'put-check'   scratch sorted set of put-checked.lua, created and deleted within one call
-- Every key a script touches is derived from base, so every script stays in one hash slot.

-- PEXPIREAT ... GT (Redis 7.0); on 6.2 an index's TTL is recomputed from its last record.
local HAS_EXPIRE_GT = redis.REDIS_VERSION_NUM ~= nil and redis.REDIS_VERSION_NUM >= 0x070000

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function now_ms()
  return math.floor(now_us() / 1000)
end

-- Lua numbers are doubles; write integers without exponent notation.
local function int(n)
  return string.format('%.0f', n)
end

-- The header line of a stored entry, without its '\n'.
local function header_of(stored)
  local newline = string.find(stored, '\n', 1, true)
  return string.sub(stored, 1, (newline or (#stored + 1)) - 1)
end

-- Reads only the header of an entry (most are shorter than 256 bytes), not its value: the value
-- would be copied into Lua for nothing and left to its garbage collector. Returns nil when the
-- entry does not exist, and '' (no tags) when the key is not a string, which no tagcache entry is:
-- such a key is then overwritten or removed like an entry instead of failing the script.
local function read_header(entry)
  local head = redis.pcall('GETRANGE', entry, 0, 255)
  if type(head) == 'table' then
    return (redis.call('EXISTS', entry) == 1) and '' or nil
  end
  if head == '' then
    return nil
  end
  if #head == 256 and not string.find(head, '\n', 1, true) then
    head = redis.call('GET', entry)
  end
  return header_of(head)
end

local function is_eternal(header)
  return string.byte(header, 1) == 49 -- '1'
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

-- Removes entries and their records in the indexes of their tags, in batches: entries are read
-- one by one, then deleted with one DEL and unlinked with one ZREM per index for the whole batch.
-- Records in the indexes named in 'skipped' are left alone (the caller drops those indexes whole).
local function new_remover(base, skipped)
  return { base = base, skipped = skipped or {}, entries = {}, records = {}, eternal = {}, seen = {}, removed = 0 }
end

-- Adds entries to the batch. Each header is read on its own with GETRANGE: an MGET of many entries
-- costs as much, as it copies every whole value into Lua.
local function remover_add(remover, keys)
  for _, key in ipairs(keys) do
    if not remover.seen[key] then
      remover.seen[key] = true
      local entry = remover.base .. 'e:' .. key
      local header = read_header(entry)
      if header then
        remover.entries[#remover.entries + 1] = entry
        local eternal = is_eternal(header)
        for tag in string.gmatch(header, '\t([^\t]+)') do
          if not remover.skipped[tag] then
            local index = remover.base .. 't:' .. tag
            local members = remover.records[index]
            if not members then
              members = {}
              remover.records[index] = members
            end
            members[#members + 1] = key
            if eternal then
              remover.eternal[index] = true
            end
          end
        end
      end
    end
  end
end

-- Applies the batch collected so far; returns the number of entries removed by this remover in all.
local function remover_flush(remover)
  local entries = remover.entries
  for i = 1, #entries, 1000 do
    remover.removed = remover.removed + redis.call('DEL', unpack(entries, i, math.min(i + 999, #entries)))
  end
  for index, members in pairs(remover.records) do
    zrem_all(index, members)
    if remover.eternal[index] then
      -- The index may now hold only expiring entries: its TTL follows them again.
      follow_last_expiry(index)
    end
  end
  remover.entries, remover.records, remover.eternal = {}, {}, {}
  return remover.removed
end

-- Returns the cache's current generation and whether its fence state had to be created. The state
-- ('gen', and 'fence' always holding '*') exists from the first fence read, put or invalidation of
-- the slot on. When either key is missing, the slot lost data (a restart without persistence, a
-- flush, an evicted key) or was never used: the state is created with a new generation that is also
-- the cache-wide fence '*', so a fence read before the loss can never admit a write after it. The new
-- generation is above every record left, and derived from the server clock, so it exceeds any
-- generation handed out before the loss as long as that clock does not step back across it.
local function ensure_fence(gen_key, fence_key)
  local current = redis.call('GET', gen_key)
  if current and redis.call('EXISTS', fence_key) == 1 then
    return tonumber(current), false
  end
  local floor = tonumber(current or '0')
  local highest = redis.call('ZRANGE', fence_key, -1, -1, 'WITHSCORES')
  if highest[2] then
    floor = math.max(floor, tonumber(highest[2]))
  end
  local generation = math.max(now_us(), floor + 1)
  redis.call('SET', gen_key, int(generation))
  redis.call('ZADD', fence_key, 'GT', int(generation), '*')
  return generation, true
end

-- Raises and returns the cache's generation. It is derived from the server clock, so a lost
-- counter can never go back below the generation of an earlier invalidation.
local function next_generation(gen_key, fence_key)
  local current = ensure_fence(gen_key, fence_key)
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

-- Refuses a put whose value may be stale: returns { 0, created } when the whole cache ('*', also
-- standing for forgotten records), the key or any of the tags ARGV[first_tag..] was invalidated
-- after 'fence' was read, nil when the write may go ahead. No '*' means the fence state was lost
-- after the fence was read (or never existed): nothing proves the value fresh.
local function fence_refusal(gen_key, fence_key, fence, key, first_tag)
  local probes = { '*', 'k:' .. key }
  for i = first_tag, #ARGV do
    probes[#probes + 1] = 't:' .. ARGV[i]
  end
  for i = 1, #probes, 1000 do
    local scores = redis.call('ZMSCORE', fence_key, unpack(probes, i, math.min(i + 999, #probes)))
    if i == 1 and not scores[1] then
      ensure_fence(gen_key, fence_key)
      return { 0, 1 }
    end
    for _, score in ipairs(scores) do
      if score and tonumber(score) > fence then
        return { 0, 0 }
      end
    end
  end
  return nil
end

-- Unlinks the key from the tags of its entry's header that ARGV[first_tag..] no longer holds; the
-- records of kept tags are the caller's to update. Returns the indexes of the kept tags the header holds.
local function unlink_dropped(base, key, header, first_tag)
  local kept = {}
  for i = first_tag, #ARGV do
    kept[ARGV[i]] = true
  end
  local previous_eternal = is_eternal(header)
  local overlap = {}
  for tag in string.gmatch(header, '\t([^\t]+)') do
    local index = base .. 't:' .. tag
    if not kept[tag] then
      redis.call('ZREM', index, key)
      if previous_eternal then
        follow_last_expiry(index)
      end
    else
      overlap[#overlap + 1] = index
    end
  end
  return overlap
end

-- Writes the record of 'key' in a tag index, scored 'score' (the entry's expiry in ms, '+inf'
-- without TTL; 'ttl' 0 = none), and keeps the index's TTL on its longest-lived entry. With
-- 'only_later' an existing record is never moved earlier (ZADD GT): the pre-written records of a
-- chunked put must not shorten the record of the entry in place, which may stay if the put is refused.
local function write_record(index, key, score, now, ttl, previous_eternal, only_later)
  local added
  if only_later then
    added = redis.call('ZADD', index, 'GT', score, key) == 1
  else
    added = redis.call('ZADD', index, score, key) == 1
  end
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
