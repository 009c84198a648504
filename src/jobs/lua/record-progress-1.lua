-- Adds finished rows to a job's throughput estimate: an exponentially weighted rate
-- (rows/s) with time constant ARGV[3], decayed to now before the rows are added. For a
-- steady flow of R rows/s it converges to R; it is an estimate for progress and ETA only.
-- KEYS[1] the job hash
-- ARGV[1] now (ms)   ARGV[2] rows finished   ARGV[3] time constant (ms)
-- Returns the new rate as a string ('' when the job does not exist).
if redis.call('EXISTS', KEYS[1]) == 0 then return '' end
local now = tonumber(ARGV[1])
local tau = tonumber(ARGV[3])
local rate = tonumber(redis.call('HGET', KEYS[1], 'progress_rate') or '0') or 0
local at = tonumber(redis.call('HGET', KEYS[1], 'progress_at_ms') or '')
if at then rate = rate * math.exp(-math.max(0, now - at) / tau) end
rate = rate + tonumber(ARGV[2]) * 1000 / tau
local text = string.format('%.3f', rate)
redis.call('HSET', KEYS[1], 'progress_rate', text, 'progress_at_ms', ARGV[1])
return text
