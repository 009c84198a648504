-- Commits one chunk's results exactly once: a chunk executed twice (a worker killed after
-- its calls but before this script, then retried) counts and stores its rows only once.
-- KEYS[1] the job hash   KEYS[2] the job's done set
-- KEYS[3] the chunk's results key   KEYS[4] the chunk's errors key
-- ARGV[1] chunk number   ARGV[2] encrypted results blob   ARGV[3] encrypted errors blob
-- ARGV[4] rows completed   ARGV[5] rows failed
-- Returns {committed (1, or 0 when the chunk was committed before), chunks_done, chunks_total}.
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, -1, -1} end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
  return {0, tonumber(redis.call('HGET', KEYS[1], 'chunks_done')), tonumber(redis.call('HGET', KEYS[1], 'chunks_total'))}
end
redis.call('SET', KEYS[3], ARGV[2])
redis.call('SET', KEYS[4], ARGV[3])
redis.call('HINCRBY', KEYS[1], 'completed', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'failed', ARGV[5])
local done = redis.call('HINCRBY', KEYS[1], 'chunks_done', 1)
return {1, done, tonumber(redis.call('HGET', KEYS[1], 'chunks_total'))}
