-- Fences the whole cache ('*'), the first step of clear(): no value loaded before it is stored after it.
-- KEYS[1] generation, KEYS[2] fence
-- ARGV[1] fence retention in us, ARGV[2] base
-- Returns the new generation.
local generation = next_generation(KEYS[1], KEYS[2])
raise_fence(KEYS[2], generation, { '*' }, tonumber(ARGV[1]))
notify(ARGV[2], '*', {})
return int(generation)
