-- Removes the given entries and their index records (the second step of clear(), one SCAN page at a time).
-- KEYS[1] generation (routes the script to the cache's slot)
-- ARGV[1] base, ARGV[2..] keys
-- Returns the number of entries that existed.
local remover = new_remover(ARGV[1], nil, true)
local keys = {}
for i = 2, #ARGV do
  keys[#keys + 1] = ARGV[i]
end
remover_add(remover, keys)
local removed = remover_flush(remover)
if removed > 0 then
  notify(ARGV[1], 'k', keys)
end
return removed
