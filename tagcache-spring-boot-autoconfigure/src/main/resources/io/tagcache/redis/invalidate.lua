-- Invalidates tags in one cache. Every entry of a tag up to the inline budget is removed here,
-- together with its records in other indexes. A larger tag index is detached (renamed aside,
-- atomically) for the caller to drain in bounded chunks. Either way the tags are fenced first,
-- so that no value read before this script can be stored after it.
-- KEYS[1] generation, KEYS[2] fence, KEYS[3] detached set, KEYS[4] soft set, KEYS[5..] index of each tag
-- ARGV[1] base, ARGV[2] fence retention in us, ARGV[3] inline budget (entries), ARGV[4] hold in us (0 =
-- none: see below), ARGV[5..] tags
-- Returns { removed, n, detached index 1, tag 1, ..., detached index n, tag n, then the same pairs for
-- up to 16 other indexes detached over a minute ago whose drain never finished }: the caller drains them
-- all, and counts the first n toward this invalidation (the indexes of its tags it detached, and those
-- an earlier invalidation of its tags detached but did not finish).
local base = ARGV[1]
local budget = tonumber(ARGV[3])
local first_tag = 5
local hold = tonumber(ARGV[4])
local ABANDONED_AFTER_US = 60000000

local generation = fence_tags(KEYS[1], KEYS[2], first_tag, tonumber(ARGV[2]), hold)

-- Indexes removed inline are dropped whole: no record is removed from them one by one.
local inline = {}
local skipped = {}
local result = { 0, 0 }
for i = first_tag, #ARGV do
  local tag, index = ARGV[i], KEYS[i]
  local size = redis.call('ZCARD', index)
  if size > 0 and size <= budget then
    budget = budget - size
    inline[#inline + 1] = index
    skipped[tag] = true
  elseif size > 0 then
    local detached = base .. 'd:' .. int(generation) .. ':' .. tag
    redis.call('RENAME', index, detached)
    redis.call('SADD', KEYS[3], detached)
    result[#result + 1] = detached
    result[#result + 1] = tag
    result[2] = result[2] + 1
  end
end

-- Soft-detached indexes of the tags still being marked hold entries the live index no longer does:
-- they are detached for removal too, as if this invalidation had detached them.
local taken_over = {}
for i = first_tag, #ARGV do
  local tag = ARGV[i]
  for _, member in ipairs(redis.call('ZRANGEBYLEX', KEYS[4], '[' .. tag .. '\0', '(' .. tag .. '\1')) do
    local soft_generation = string.sub(member, #tag + 2)
    local snapshot = base .. 's:' .. soft_generation .. ':' .. tag
    redis.call('ZREM', KEYS[4], member)
    if redis.call('EXISTS', snapshot) == 1 then
      local detached = base .. 'd:' .. soft_generation .. ':' .. tag
      redis.call('RENAME', snapshot, detached)
      redis.call('SADD', KEYS[3], detached)
      taken_over[detached] = true
      result[#result + 1] = detached
      result[#result + 1] = tag
      result[2] = result[2] + 1
    end
  end
end

local remover = new_remover(base, skipped)
for _, index in ipairs(inline) do
  remover_add(remover, redis.call('ZRANGE', index, 0, -1))
end
result[1] = remover_flush(remover)
if #inline > 0 then
  redis.call('DEL', unpack(inline))
end

-- Detached indexes whose drain never finished: those of the tags invalidated here, whatever their age
-- (an earlier invalidation of them was interrupted, by an outage say, and this one is its retry or a
-- later call: it finishes them, and counts what they remove), and any other over a minute old (the
-- process that started it stopped; a live drain takes about a second per 100,000 entries). Until they
-- are drained their entries could still be read.
local detached = (redis.call('SCARD', KEYS[3]) <= 64) and redis.call('SMEMBERS', KEYS[3])
    or redis.call('SRANDMEMBER', KEYS[3], 64)
local invalidated = {}
for i = first_tag, #ARGV do
  invalidated[ARGV[i]] = true
end
local earlier_own, abandoned = {}, {}
for _, earlier in ipairs(detached) do
  local earlier_generation, earlier_tag = string.match(string.sub(earlier, #base + 1), '^d:(%d+):(.*)$')
  earlier_generation = tonumber(earlier_generation)
  if earlier_tag and earlier_generation < generation and not taken_over[earlier] then
    if invalidated[earlier_tag] then
      earlier_own[#earlier_own + 1] = earlier
      earlier_own[#earlier_own + 1] = earlier_tag
    elseif earlier_generation < generation - ABANDONED_AFTER_US and #abandoned < 16 then
      abandoned[#abandoned + 1] = earlier
      abandoned[#abandoned + 1] = earlier_tag
    end
  end
end
for _, item in ipairs(earlier_own) do
  result[#result + 1] = item
end
result[2] = result[2] + #earlier_own / 2
for _, item in ipairs(abandoned) do
  result[#result + 1] = item
end
notify(base, 't', args_from(first_tag))
return result
