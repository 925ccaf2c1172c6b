-- The first step of a put with many tags (see put-checked.lua): writes the key's record in a bounded
-- chunk of its tag indexes, scored with an expiry computed here (now + ttl). Puts with many tags are
-- split so that no script holds Redis for long; the chunks of one put are sent together with its
-- put-checked.lua, in one round trip. A record written here before its entry is harmless: readers
-- read entries, and invalidations remove records whose entry is missing. An existing record is never
-- moved earlier (ZADD GT), so that the entry in place, which stays if the put is refused, keeps
-- records at least as late as its own expiry.
-- KEYS[1..] index of each tag of the chunk
-- ARGV[1] key, ARGV[2] ttl in ms (> 0: entries without TTL are written by put.lua in one step)
-- Returns the score written.
local key, ttl = ARGV[1], tonumber(ARGV[2])
local now = now_ms()
local score = int(now + ttl)
for i = 1, #KEYS do
  write_record(KEYS[i], key, score, now, ttl, false, true)
end
return score
