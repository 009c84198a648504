--[[
  renew-lease: pushes back the lease's expiry, only while ARGV[1] still holds it.

  KEYS[1]  the lease key
  ARGV[1]  owner
  ARGV[2]  time to live, milliseconds
  Returns 1 when renewed, 0 when the lease is gone or held by another owner.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
