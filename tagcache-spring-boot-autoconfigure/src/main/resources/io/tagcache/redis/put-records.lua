-- The first steps of a put with many tags (see put-checked.lua): each chunk checks the fence for a
-- bounded number of tags and writes the key's record in their indexes. Puts with many tags are split
-- so that no script holds Redis for long; the chunks of one put are sent together with its
-- put-checked.lua, in one round trip, and Redis runs them in order. The first chunk opens the put's
-- marker (see pending_put_key in lib.lua): this attempt's token, the slot's generation, and the expiry
-- every record and the entry get (now + ttl); each chunk adds the number of records it wrote, so the
-- last step can tell that every chunk ran. A chunk that finds the fence raised marks the put refused.
-- A record written here before its entry is harmless: readers read entries, and invalidations remove
-- records whose entry is missing. An existing record is never moved earlier (ZADD GT), so that the
-- entry in place, which stays if the put is refused, keeps records at least as late as its own expiry.
-- KEYS[1] marker, KEYS[2] fence, KEYS[3] generation, KEYS[4..] index of each tag of the chunk
-- ARGV[1] key, ARGV[2] ttl in ms (> 0: entries without TTL are written by put.lua in one step),
-- ARGV[3] fence read at the miss ('' = unfenced), ARGV[4] token of this attempt, ARGV[5] '1' for the
-- first chunk, ARGV[6..] tags of the chunk (same order as the indexes)
-- Returns { status, created }: 1 records written, 0 refused by the fence, 3 nothing done (the marker
-- is no longer this attempt's: another put of the key took it, or a script deleted it); created as in
-- put.lua.
local key, token = ARGV[1], ARGV[4]
local first_tag = 6
local marker = KEYS[1]
local fenced = ARGV[3] ~= ''
local created = 0
local expiry

local function refused(refusal)
  redis.call('HSET', marker, 'refused', '1')
  return refusal
end

if ARGV[5] == '1' then
  redis.call('DEL', marker)
  redis.call('HSET', marker, 'token', token)
  redis.call('PEXPIRE', marker, PENDING_PUT_MS)
  if fenced then
    local refusal = fence_refusal(KEYS[3], KEYS[2], tonumber(ARGV[3]), key, first_tag)
    if refusal then
      return refused(refusal)
    end
  end
  local generation, made = ensure_fence(KEYS[3], KEYS[2])
  created = made and 1 or 0
  expiry = int(now_ms() + tonumber(ARGV[2]))
  redis.call('HSET', marker, 'generation', int(generation), 'expiry', expiry, 'written', 0)
else
  local state = redis.call('HMGET', marker, 'token', 'refused', 'expiry')
  if state[1] ~= token then
    return { 3, 0 }
  end
  if state[2] then
    return { 0, 0 }
  end
  expiry = state[3]
  if fenced then
    local refusal = fence_refusal(KEYS[3], KEYS[2], tonumber(ARGV[3]), key, first_tag)
    if refusal then
      return refused(refusal)
    end
  end
end

local now = now_ms()
for i = 4, #KEYS do
  write_record(KEYS[i], key, expiry, now, 1, false, true)
end
redis.call('HINCRBY', marker, 'written', #KEYS - 3)
return { 1, created }
