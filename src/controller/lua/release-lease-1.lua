--[[
  release-lease: deletes the lease, only while ARGV[1] holds it, so a standby can take
  over at once instead of waiting for the expiry.

  KEYS[1]  the lease key
  ARGV[1]  owner
  Returns 1 when released, 0 when the lease was not ARGV[1]'s.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
