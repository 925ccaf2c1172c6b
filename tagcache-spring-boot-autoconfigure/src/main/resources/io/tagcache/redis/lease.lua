-- Takes the lease of a key: one load (or refresh) of the key at a time across every instance. The
-- lease expires on its own, so a holder that died holds it no longer than its lease time. A holder
-- is '<fence>:<id>', the fence its load or refresh read first: a load whose fence is newer
-- than the holder's (an invalidation of the slot came in between) must not wait for it, and takes
-- the lease over, so that later loads wait for the newer one.
-- KEYS[1] entry, KEYS[2] lease
-- ARGV[1] holder, ARGV[2] lease time in ms, ARGV[3] '1' to return the entry instead when it is fresh
-- (not expired, not soft-invalidated)
-- Returns { 1 } when taken, { 0, pttl } when another holds it, { 2, entry } when asked for and fresh.
if ARGV[3] == '1' then
  local entry = redis.pcall('GET', KEYS[1])
  if type(entry) == 'string' and is_fresh(entry, now_ms()) then
    return { 2, entry }
  end
end
local held = redis.call('GET', KEYS[2])
if held then
  local held_fence = tonumber(string.match(held, '^(%d+):')) or 0
  local fence = tonumber(string.match(ARGV[1], '^(%d+):')) or 0
  if fence <= held_fence then
    return { 0, redis.call('PTTL', KEYS[2]) }
  end
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return { 1 }
