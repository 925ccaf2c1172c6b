-- The last step of a put with many tags: after the chunks of put-records.lua checked the fence for
-- every tag and wrote the key's record in every tag index, writes the entry, in work bounded whatever
-- the number of tags. Between the chunks and this step another script may have raised a fence or
-- removed records (an invalidation of one of the tags, an eviction or clear(), a rewrite or removal of
-- the entry in place, which unlinks its tags, or a write of the key that scored a record earlier).
-- Rather than look at every record, this step checks the put's marker (see pending_put_key in lib.lua):
-- still this attempt's, every record written, and the slot's generation unchanged since the first
-- chunk; invalidations, evictions and clear() raise the generation, the other scripts delete the
-- marker. Otherwise nothing is written and the caller sends the whole put again, so that the entry is
-- never unreachable through one of its tags and the records of the entry in place are left as they
-- were. (A change of the generation for unrelated tags costs a retry, never a stale entry.) The entry
-- expires when its records do (the expiry the first chunk chose), as with put.lua.
-- KEYS[1] entry, KEYS[2] fence, KEYS[3] generation, KEYS[4] marker
-- ARGV[1] base, ARGV[2] key, ARGV[3] entry as stored (see lib.lua), ARGV[4] token of this attempt,
-- ARGV[5] number of tags
-- Returns { 1, created } when written, { 0, created } when refused by the fence, { 3, created } when
-- the records may be incomplete; created as in put.lua.
local base, key, token = ARGV[1], ARGV[2], ARGV[4]
local marker = KEYS[4]

local generation, made = ensure_fence(KEYS[3], KEYS[2])
local created = made and 1 or 0
local state = redis.call('HMGET', marker, 'token', 'refused', 'generation', 'expiry', 'written')
if state[1] ~= token then
  -- Deleted (or expired), or taken by a later put of the key: this attempt is over, the marker is not its to delete.
  return { 3, created }
end
redis.call('DEL', marker)
if state[2] then
  return { 0, created }
end
if made or state[3] ~= int(generation) or state[5] ~= ARGV[5] then
  return { 3, created }
end

local expiry = state[4]
local header = read_header(KEYS[1])
local new_header = header and header_of(ARGV[3])
if header and header ~= new_header then
  -- The entry in place carries other tags (a rewrite with the same header leaves every record as it
  -- is). Unlinking the tags it drops is the one step here that grows with the tags (of both entries).
  local kept = unlink_dropped(base, key, header, tags_of_header(new_header))
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
notify(base, 'k', { key })
return { 1, created }
