-- Lists soft-detached tag indexes whose marking was abandoned: detached longer ago than the given age,
-- so the process that detached them stopped or lost Redis before it finished.
-- KEYS[1] soft set
-- ARGV[1] base, ARGV[2] age in us
-- Returns { soft-detached index 1, tag 1, member 1, ... } for at most 64 of them.
local base, age = ARGV[1], tonumber(ARGV[2])
local now = now_us()
local result = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, 63)) do
  local tag, generation = string.match(member, '^(.*)%z(%d+)$')
  if tag and tonumber(generation) < now - age then
    result[#result + 1] = base .. 's:' .. generation .. ':' .. tag
    result[#result + 1] = tag
    result[#result + 1] = member
  end
end
return result
