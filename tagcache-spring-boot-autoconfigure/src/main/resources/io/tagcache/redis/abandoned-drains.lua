-- Lists detached tag indexes whose drain was abandoned: detached longer ago than the given age, so
-- the process that detached them stopped or lost Redis before it finished.
-- KEYS[1] detached set
-- ARGV[1] base, ARGV[2] age in us
-- Returns { detached index 1, tag 1, ... } for at most 64 of them.
local base, age = ARGV[1], tonumber(ARGV[2])
local now = now_us()
local result = {}
for _, detached in ipairs(redis.call('SRANDMEMBER', KEYS[1], 64)) do
  local generation, tag = string.match(string.sub(detached, #base + 1), '^d:(%d+):(.*)$')
  if tag and tonumber(generation) < now - age then
    result[#result + 1] = detached
    result[#result + 1] = tag
  end
end
return result
