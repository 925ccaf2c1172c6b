-- Gives a lease back, if it is still the holder's (it may have expired and been taken by another).
-- KEYS[1] lease
-- ARGV[1] the holder (see lease.lua)
-- Returns 1 when released, 0 when the lease was no longer the holder's.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
