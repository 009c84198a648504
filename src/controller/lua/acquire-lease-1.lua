--[[
  acquire-lease: takes the controller's leader lease when nobody holds it, or renews it
  when this owner already does.

  KEYS[1]  the lease key (its value is the owner)
  ARGV[1]  owner: unique per process
  ARGV[2]  time to live, milliseconds
  Returns -1 when ARGV[1] holds the lease now (for ARGV[2] ms), else the lease's
  remaining time to live in milliseconds (0 if it is about to expire).
]]
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return -1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return -1
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return 0 end
return ttl
