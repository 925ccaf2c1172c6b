-- Creates the fence state of a cache slot when it is missing (first use, or lost), on a miss whose
-- read of the generation found none; see ensure_fence in lib.lua.
-- KEYS[1] generation, KEYS[2] fence
-- Returns { generation, 1 if the state was created here }.
local generation, created = ensure_fence(KEYS[1], KEYS[2])
return { int(generation), created and 1 or 0 }
