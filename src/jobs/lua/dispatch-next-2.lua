-- Takes up to ARGV[3] chunk refs, round-robin over the tenant ring: each pick moves the
-- ring's head tenant to its tail and pops that tenant's oldest chunk; a tenant whose
-- backlog is empty leaves the ring. Each ref taken is recorded in the in-flight set with
-- the time, so a dispatcher that dies before handing it to BullMQ loses nothing (a sweep
-- hands over refs that stay there too long). Terminates: every pass either takes a ref
-- or shortens the ring.
-- KEYS[1] the tenant ring (list)   KEYS[2] the in-flight refs (sorted set: ref -> ms)
-- ARGV[1] the backlog key prefix (a tenant's backlog is ARGV[1] .. tenant id)
-- ARGV[2] now (ms)   ARGV[3] the most refs to take
-- Returns the refs taken, in dispatch order.
local taken = {}
local wanted = tonumber(ARGV[3])
while #taken < wanted do
  local tenant = redis.call('LMOVE', KEYS[1], KEYS[1], 'LEFT', 'RIGHT')
  if not tenant then break end
  local ref = redis.call('LPOP', ARGV[1] .. tenant)
  if ref then
    redis.call('ZADD', KEYS[2], ARGV[2], ref)
    taken[#taken + 1] = ref
  else
    redis.call('LREM', KEYS[1], 0, tenant)
  end
end
return taken
