-- Removes entries of a detached tag index, in groups, until the index is empty, a group ends past
-- the time budget, or the chunk limit is reached, so that one call holds Redis for about the budget
-- whatever an entry costs. An entry whose key is again in the live index of the tag was written
-- after the invalidation (its fence was newer) and is kept.
-- KEYS[1] detached index, KEYS[2] detached set
-- ARGV[1] base, ARGV[2] tag, ARGV[3] most entries per call, ARGV[4] time budget in us
-- Returns { removed, left }.
local base, tag = ARGV[1], ARGV[2]
local limit, budget = tonumber(ARGV[3]), tonumber(ARGV[4])
local group = 32
local live = base .. 't:' .. tag
local rewritten = redis.call('EXISTS', live) == 1
local started = now_us()
local remover = new_remover(base, { [tag] = true }, true)
local taken = 0
repeat
  local popped = redis.call('ZPOPMIN', KEYS[1], math.min(group, limit - taken))
  local keys = {}
  for i = 1, #popped, 2 do
    keys[#keys + 1] = popped[i]
  end
  taken = taken + #keys
  local kept = (rewritten and #keys > 0) and redis.call('ZMSCORE', live, unpack(keys)) or {}
  local removable = {}
  for i, key in ipairs(keys) do
    if not kept[i] then
      removable[#removable + 1] = key
    end
  end
  remover_add(remover, removable)
  remover_flush(remover)
until #keys < group or taken >= limit or now_us() - started >= budget
if remover.removed > 0 then
  notify(base, 't', { tag })
end
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then
  redis.call('SREM', KEYS[2], KEYS[1])
end
return { remover.removed, left }
