--[[
  renew-leases: pushes back the expiry of leases still held (requests still in flight),
  so a long call keeps its concurrency slot; a lease already reaped is not re-added.

  KEYS[1]  the lease sorted set
  ARGV[1]  time to live from now, milliseconds
  ARGV[2..] lease members
  Returns the number of leases renewed.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local ttl = tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + ttl, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return renewed
