-- Soft-invalidates tags in one cache: every entry of the tags stays readable, marked stale (its soft
-- invalidation time written in place, its TTL cut to how long it may still be served), so that it is
-- served stale while one caller per key reloads it; the tags are fenced as by invalidate.lua, so no
-- value read before this script is stored after it. Indexes up to the inline budget are marked here;
-- a larger one is detached (renamed aside, atomically) for the caller to mark in bounded chunks with
-- soft-drain.lua, which puts its records back into the live index. Until then invalidate.lua finds it
-- in the soft set.
-- KEYS[1] generation, KEYS[2] fence, KEYS[3] soft set, KEYS[4..] index of each tag
-- ARGV[1] base, ARGV[2] fence retention in us, ARGV[3] inline budget (entries), ARGV[4] hold in us (0 =
-- none), ARGV[5] ms a marked entry is kept at most, ARGV[6..] tags
-- Returns { marked, soft-detached index 1, tag 1, member 1, ... }: the caller marks the rest.
local base = ARGV[1]
local budget = tonumber(ARGV[3])
local keep = tonumber(ARGV[5])
local first_tag = 6

local generation = fence_tags(KEYS[1], KEYS[2], first_tag, tonumber(ARGV[2]), tonumber(ARGV[4]))
local now = now_ms()
local result = { 0 }
local marked = 0
for i = first_tag, #ARGV do
  local tag, index = ARGV[i], KEYS[i - 2]
  local size = redis.call('ZCARD', index)
  if size > 0 and size <= budget then
    budget = budget - size
    for _, key in ipairs(redis.call('ZRANGE', index, 0, -1)) do
      if soft_mark(base .. 'e:' .. key, now, keep) then
        marked = marked + 1
      end
    end
  elseif size > 0 then
    local snapshot = soft_index(base, generation, tag)
    local member = soft_member(tag, generation)
    redis.call('RENAME', index, snapshot)
    redis.call('ZADD', KEYS[3], 0, member)
    result[#result + 1] = snapshot
    result[#result + 1] = tag
    result[#result + 1] = member
  end
end
result[1] = marked
notify(base, 't', args_from(first_tag))
return result
