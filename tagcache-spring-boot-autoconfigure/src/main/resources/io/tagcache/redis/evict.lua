-- Removes one entry by key and fences the key, so that a value loaded before the eviction is not
-- written back after it.
-- KEYS[1] entry, KEYS[2] generation, KEYS[3] fence
-- ARGV[1] base, ARGV[2] key, ARGV[3] fence retention in us
-- Returns 1 when the entry existed.
local generation = next_generation(KEYS[2], KEYS[3])
raise_fence(KEYS[3], generation, { 'k:' .. ARGV[2] }, tonumber(ARGV[3]))
local remover = new_remover(ARGV[1], nil)
remover_add(remover, { ARGV[2] })
notify(ARGV[1], 'k', { ARGV[2] })
return remover_flush(remover)
