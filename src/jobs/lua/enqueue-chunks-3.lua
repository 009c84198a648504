-- Queues chunks of one job for fair dispatch: appends the refs to the tenant's backlog,
-- puts the tenant on the ring when it is not there, and indexes the job as open (not yet
-- settled) by its expiry time. Invariant kept with dispatch-next-2.lua: every tenant
-- whose backlog is not empty is on the ring.
-- KEYS[1] the tenant's backlog (list)   KEYS[2] the tenant ring (list)
-- KEYS[3] the open jobs (sorted set: job id -> expires_at ms)
-- ARGV[1] tenant id   ARGV[2] job id   ARGV[3] expires_at (ms)   ARGV[4..] chunk refs `<job id>:<n>`
-- Returns the backlog's length after the call.
for i = 4, #ARGV, 500 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
if not redis.call('LPOS', KEYS[2], ARGV[1]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
end
redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[2])
return redis.call('LLEN', KEYS[1])
