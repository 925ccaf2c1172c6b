-- Marks the entries of a soft-detached tag index in groups, as drain.lua removes those of a detached
-- one, until the index is empty, a group ends past the time budget, or the chunk limit is reached; each
-- record goes back into the live index of the tag, where later invalidations find it. An entry whose key
-- is in the live index again was written after the soft invalidation (its fence was newer): it is
-- neither marked nor moved. One that no longer carries the tag (rewritten, or gone) is dropped.
-- KEYS[1] soft-detached index, KEYS[2] soft set
-- ARGV[1] base, ARGV[2] tag, ARGV[3] most entries per call, ARGV[4] time budget in us, ARGV[5] ms a
-- marked entry is kept at most, ARGV[6] the index's member of the soft set
-- Returns { marked, left }.
local base, tag = ARGV[1], ARGV[2]
local limit, budget, keep = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local group = 16
local live = base .. 't:' .. tag
local started = now_us()
local now = math.floor(started / 1000)
local marked, taken, moved = 0, 0, false
repeat
  local popped = redis.call('ZPOPMIN', KEYS[1], math.min(group, limit - taken))
  taken = taken + #popped / 2
  for i = 1, #popped, 2 do
    local key, score = popped[i], popped[i + 1]
    if not redis.call('ZSCORE', live, key) then
      local entry = base .. 'e:' .. key
      local header = read_header(entry)
      if header and tags_of_header(header)[tag] then
        if soft_mark(entry, now, keep) then
          marked = marked + 1
        end
        redis.call('ZADD', live, score, key)
        moved = true
      end
    end
  end
until #popped < 2 * group or taken >= limit or now_us() - started >= budget
if moved then
  follow_last_expiry(live)
end
if marked > 0 then
  notify(base, 't', { tag })
end
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then
  redis.call('ZREM', KEYS[2], ARGV[6])
end
return { marked, left }
