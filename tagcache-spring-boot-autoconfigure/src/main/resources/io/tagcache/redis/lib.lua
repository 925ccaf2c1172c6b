-- Shared functions, prepended to every tagcache script when it is loaded.
--
-- Layout of one cache, all in the hash slot of {cache} (base = '<prefix>:{<cache>}:'):
--   base..'e:'..key     string: a header line, then the JSON value. The header is 'E' (the entry
--                         expires) or 'N' (it never does), fixed-width fields (expiry ms, 13 digits;
--                         load time ms, 6 digits; soft invalidation ms, 13 digits, from byte 21 on, see
--                         SOFT_MARK_OFFSET), the type hint ('' for null), then '\t'..tag for each tag; a
--                         '\n' ends it. Tags and type hints hold no control character.
--   base..'soft'        sorted set, by lex: tag..'\0'..gen for each soft-detached index still being marked
--   base..'s:'..gen..':'..tag   a soft-detached tag index, marked in bounded chunks (soft-drain.lua)
--   base..'l:'..key     string: the lease of a load or refresh of the key (lease.lua): the holder's token
--   base..'t:'..tag     sorted set: member = key, score = the entry's expiry in ms ('+inf' without TTL)
--   base..'gen'         the cache's invalidation generation: server time in microseconds, strictly increasing
--   base..'fence'       sorted set: member = '*' | 'k:'..key | 't:'..tag, score = generation of its last invalidation;
--                         '*' exists from the moment the fence state is created (see ensure_fence)
--   base..'detached'    set of detached tag indexes still being drained
--   base..'d:'..gen..':'..tag   a detached tag index, drained in bounded chunks
--   base..'p:'..key     hash: the put with many tags of the key in flight (put-records.lua, put-checked.lua):
--                         its 'token', the 'generation' and 'expiry' its first chunk read and chose, the
--                         number of records 'written', 'refused' once a chunk's fence check refused it.
--                         Expires on its own (PENDING_PUT_MS); every script that rewrites or removes the
--                         entry of the key without raising the generation deletes it (see pending_put_key).
--   base..'inv'         the channel (not a key) on which every script that removes, rewrites or marks
--                         entries says so, for near caches (see notify)
-- Every key a script touches is derived from base, so every script stays in one hash slot.

-- PEXPIREAT ... GT (Redis 7.0); on 6.2 an index's TTL is recomputed from its last record.
local HAS_EXPIRE_GT = redis.REDIS_VERSION_NUM ~= nil and redis.REDIS_VERSION_NUM >= 0x070000

-- How long the marker of a put with many tags lives when its last step never comes (the client died).
local PENDING_PUT_MS = 60000

-- The marker of the put with many tags of 'key' in flight. put-checked.lua writes the entry only when
-- its marker is still in place and the generation unchanged since its first chunk: invalidations,
-- evictions and clear() raise the generation; a script that removes a record of the key, or writes
-- one earlier than the chunks did, without raising it (put.lua and put-checked.lua rewriting the
-- key, drain.lua and remove-entries.lua removing its entry) deletes the marker instead.
local function pending_put_key(base, key)
  return base .. 'p:' .. key
end

-- Sharded pub/sub (Redis 7.0): the channel hashes to the slot of the script's keys, so on a cluster the
-- message goes to the subscribers of that shard only instead of crossing the cluster bus. Redis 6.2 has
-- classic pub/sub only (and no REDIS_VERSION_NUM).
local NOTIFY_COMMAND = (redis.REDIS_VERSION_NUM ~= nil and redis.REDIS_VERSION_NUM >= 0x070000) and 'SPUBLISH'
    or 'PUBLISH'

-- Tells near caches, in the same atomic step as the change, which of their entries to drop: 't' and the
-- tags whose entries were removed or marked, 'k' and keys removed or rewritten, '*' (no items) the whole
-- cache. Each item is written as its length in bytes, ':', then the item. A message is published to the
-- subscribers connected at that moment; a near cache whose subscription was lost clears itself.
local function notify(base, kind, items)
  local parts = { kind }
  for _, item in ipairs(items) do
    parts[#parts + 1] = #item .. ':' .. item
  end
  redis.call(NOTIFY_COMMAND, base .. 'inv', table.concat(parts))
end

-- ARGV[first..], as a list (unpack() is bounded by the Lua C stack).
local function args_from(first)
  local items = {}
  for i = first, #ARGV do
    items[#items + 1] = ARGV[i]
  end
  return items
end

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
  local flag = string.byte(header, 1)
  return flag == 78 or flag == 49 -- 'N', or '1' in entries of tagcache before the fixed-width fields
end

-- Where (0-based, for SETRANGE) the soft invalidation time of an entry's header starts, and its width.
local SOFT_MARK_OFFSET = 20
local NOT_SOFT_INVALIDATED = '0000000000000'

-- Marks an entry soft-invalidated at 'now' (ms): writes the time in place into its header, unless it is
-- marked already (the first mark counts), and cuts its TTL to 'keep' ms, the longest it may still be
-- served (stale-while-revalidate, stale-if-error). Returns whether it marked it.
local function soft_mark(entry, now, keep)
  local head = redis.pcall('GETRANGE', entry, 0, SOFT_MARK_OFFSET + 12)
  if type(head) ~= 'string' or #head < SOFT_MARK_OFFSET + 13 then
    return false
  end
  local flag = string.byte(head, 1)
  if (flag ~= 69 and flag ~= 78) or string.sub(head, SOFT_MARK_OFFSET + 1) ~= NOT_SOFT_INVALIDATED then
    return false
  end
  redis.call('SETRANGE', entry, SOFT_MARK_OFFSET, string.format('%013d', now))
  local ttl = redis.call('PTTL', entry)
  if ttl == -1 or ttl > keep then
    redis.call('PEXPIRE', entry, keep)
  end
  return true
end

-- The member of a soft-detached index in the soft set, and the key of the index.
local function soft_member(tag, generation)
  return tag .. '\0' .. int(generation)
end

local function soft_index(base, generation, tag)
  return base .. 's:' .. int(generation) .. ':' .. tag
end

-- Whether an entry (its whole string, or its first 33 bytes) is fresh at 'now' (ms): not expired, not
-- soft-invalidated. An entry in another format is not.
local function is_fresh(stored, now)
  local flag = string.byte(stored, 1)
  if (flag ~= 69 and flag ~= 78) or #stored < 33 then -- 'E', 'N'
    return false
  end
  if string.sub(stored, SOFT_MARK_OFFSET + 1, SOFT_MARK_OFFSET + 13) ~= NOT_SOFT_INVALIDATED then
    return false
  end
  return flag == 78 or tonumber(string.sub(stored, 2, 14)) > now
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
-- With 'clears_pending' the markers of puts with many tags of the removed keys are deleted too: the
-- caller does not raise the generation (see pending_put_key).
local function new_remover(base, skipped, clears_pending)
  return { base = base, skipped = skipped or {}, entries = {}, records = {}, eternal = {}, seen = {}, removed = 0,
    clears_pending = clears_pending, pending = {} }
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
        if remover.clears_pending then
          remover.pending[#remover.pending + 1] = pending_put_key(remover.base, key)
        end
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
  local pending = remover.pending
  for i = 1, #pending, 1000 do
    redis.call('DEL', unpack(pending, i, math.min(i + 999, #pending)))
  end
  for index, members in pairs(remover.records) do
    zrem_all(index, members)
    if remover.eternal[index] then
      -- The index may now hold only expiring entries: its TTL follows them again.
      follow_last_expiry(index)
    end
  end
  remover.entries, remover.records, remover.eternal, remover.pending = {}, {}, {}, {}
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

-- The tags ARGV[first_tag..], as a set.
local function tags_of_args(first_tag)
  local tags = {}
  for i = first_tag, #ARGV do
    tags[ARGV[i]] = true
  end
  return tags
end

-- The tags of an entry's header, as a set.
local function tags_of_header(header)
  local tags = {}
  for tag in string.gmatch(header, '\t([^\t]+)') do
    tags[tag] = true
  end
  return tags
end

-- Unlinks the key from the tags of its entry's header that the set 'kept' does not hold; the records
-- of kept tags are the caller's to update. Returns the indexes of the kept tags the header holds.
local function unlink_dropped(base, key, header, kept)
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

-- Fences the tags ARGV[first_tag..] at a new generation, which it returns; with a hold (us), their
-- records are raised that far ahead (see invalidate.lua).
local function fence_tags(gen_key, fence_key, first_tag, retention_us, hold)
  local generation = next_generation(gen_key, fence_key)
  local fenced = {}
  for i = first_tag, #ARGV do
    fenced[#fenced + 1] = 't:' .. ARGV[i]
  end
  raise_fence(fence_key, generation, fenced, retention_us)
  if hold > 0 then
    -- A hold (an invalidation inside a transaction): the tags' records are raised ahead of the generation,
    -- so every fence read until then is below them and no write of the tags is stored until the
    -- transaction completes and invalidates them again (which sets them back to its generation), or the
    -- hold expires on its own.
    for i = 1, #fenced, 1000 do
      local args = {}
      for j = i, math.min(i + 999, #fenced) do
        args[#args + 1] = int(generation + hold)
        args[#args + 1] = fenced[j]
      end
      redis.call('ZADD', fence_key, 'GT', unpack(args))
    end
  end
  return generation
end
