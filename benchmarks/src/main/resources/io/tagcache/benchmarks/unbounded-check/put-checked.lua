-- The last step of a put with many tags: after put-records.lua wrote the key's record in every tag
-- index, checks the fence, checks that every record is still there, and writes the entry. Between the
-- two steps another script may have removed records (an invalidation of one of the tags, the removal
-- or rewrite of the entry in place, which unlinks its tags): the check finds every record at once,
-- with ZINTERSTORE of a one-member set and the indexes (AGGREGATE MIN), which costs Redis a lookup
-- per index in C, not a Lua call per tag. When a record is missing nothing is written and the
-- caller sends the whole put again (an invalidation is then before it), so that the entry is never
-- unreachable through one of its tags and the records of the entry in place are left as they were.
-- The entry expires at the earliest expiry of its records, and never later than now + ttl: every
-- record is at least as late as its entry, as with put.lua.
-- KEYS[1] entry, KEYS[2] fence, KEYS[3] generation, KEYS[4] scratch ('put-check'), KEYS[5..] index
-- of each tag (same order as the tags)
-- ARGV[1] base, ARGV[2] key, ARGV[3] entry as stored (see lib.lua), ARGV[4] ttl in ms (> 0),
-- ARGV[5] fence read at the miss ('' = unfenced), ARGV[6..] tags
-- Returns { 1, created } when written, { 0, created } when refused by the fence, { 3, created } when
-- a record was missing; created as in put.lua.
local base, key = ARGV[1], ARGV[2]
local first_tag = 6
local first_index = 5
local created = 0

if ARGV[5] ~= '' then
  local refusal = fence_refusal(KEYS[3], KEYS[2], tonumber(ARGV[5]), key, first_tag)
  if refusal then
    return refusal
  end
else
  local _, made = ensure_fence(KEYS[3], KEYS[2])
  created = made and 1 or 0
end

-- The scratch set holds the key alone, so ZINTERSTORE walks one member and looks it up in each index;
-- it keeps the lowest score found, and is left empty (deleted) as soon as an index lacks the key.
-- (Emptied first: a call that failed half-way may have left members of other keys in it.)
local scratch = KEYS[4]
redis.call('DEL', scratch)
redis.call('ZADD', scratch, '+inf', key)
for i = first_index, #KEYS, 4000 do
  local args = { scratch }
  for j = i, math.min(i + 3999, #KEYS) do
    args[#args + 1] = KEYS[j]
  end
  args[#args + 1] = 'AGGREGATE'
  args[#args + 1] = 'MIN'
  if redis.call('ZINTERSTORE', scratch, #args - 2, unpack(args)) == 0 then
    return { 3, created }
  end
end
local earliest = tonumber(redis.call('ZSCORE', scratch, key))
redis.call('DEL', scratch)

local ttl = tonumber(ARGV[4])
local now = now_ms()
local expiry = int(math.min(earliest, now + ttl))

local header = read_header(KEYS[1])
if header then
  local kept = unlink_dropped(base, key, header, first_tag)
  if is_eternal(header) then
    -- The entry in place never expired: its records of kept tags are still '+inf' (put-records.lua
    -- does not move records earlier), and would outlive the new entry.
    for _, index in ipairs(kept) do
      redis.call('ZADD', index, expiry, key)
      follow_last_expiry(index)
    end
  end
end
redis.call('SET', KEYS[1], ARGV[3], 'PXAT', expiry)
return { 1, created }
