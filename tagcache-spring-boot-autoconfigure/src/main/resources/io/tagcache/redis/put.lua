-- Writes one entry (header with its tags, then the value) and its record in every tag index, in one
-- step; optionally fenced.
-- KEYS[1] entry, KEYS[2] fence, KEYS[3] generation, KEYS[4..] index of each tag (same order as the tags)
-- ARGV[1] base, ARGV[2] key, ARGV[3] entry as stored (see lib.lua), ARGV[4] ms it is stored for (0 = no TTL):
-- its time to live and the time it is kept after expiry,
-- ARGV[5] fence read at the miss ('' = unfenced), ARGV[6] '1' to write only if the entry is absent,
-- ARGV[7..] tags
-- Returns { 1, created } when written, { 0, created } when refused by the fence, { 2, created, stored
-- entry } when absent-only and a fresh entry exists; created is 1 when the slot's fence state was missing
-- (lost, or never created) and this script created it: the caller registers the cache again.
local base, key = ARGV[1], ARGV[2]
local first_tag = 7
local created = 0

if ARGV[5] ~= '' then
  local refusal = fence_refusal(KEYS[3], KEYS[2], tonumber(ARGV[5]), key, first_tag)
  if refusal then
    return refusal
  end
else
  -- Unfenced: the fence state is kept in place all the same, so that the slot can be found after its
  -- registry entry was lost, and so that loads in flight during a loss are refused.
  local _, made = ensure_fence(KEYS[3], KEYS[2])
  created = made and 1 or 0
end

if ARGV[6] == '1' then
  -- An entry kept past its expiry (stale-if-error) or soft-invalidated is not there for putIfAbsent.
  local existing = redis.pcall('GET', KEYS[1])
  if type(existing) == 'string' and is_fresh(existing, now_ms()) then
    return { 2, created, existing }
  end
end

local previous_eternal = false
local header = read_header(KEYS[1])
if header then
  -- Unlink the key from the tags it no longer carries; the records of kept tags are updated below.
  previous_eternal = is_eternal(header)
  unlink_dropped(base, key, header, tags_of_args(first_tag))
end
-- A put with many tags of the key in flight must not write its entry after this one: its records may
-- have been unlinked above or scored earlier below (see pending_put_key).
redis.call('DEL', pending_put_key(base, key))

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
  write_record(KEYS[i], key, score, now, ttl, previous_eternal, false)
end
if ARGV[5] == '' and ARGV[6] ~= '1' then
  -- An explicit put replaces the value; a fenced one (a load) only fills a miss or refreshes an entry
  -- no invalidation reached, which near caches may serve until it expires.
  notify(base, 'k', { key })
end
return { 1, created }
