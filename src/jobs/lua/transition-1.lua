-- Moves a job from one of the allowed statuses to another, stamping the new status's time.
-- KEYS[1] the job hash
-- ARGV[1] the new status   ARGV[2] its timestamp field   ARGV[3] the time (ISO 8601)
-- ARGV[4..] the statuses the job may be in for the move
-- Returns the status before the call ('' when the job does not exist); the move happened
-- only if that status is among ARGV[4..].
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return '' end
for i = 4, #ARGV do
  if current == ARGV[i] then
    redis.call('HSET', KEYS[1], 'status', ARGV[1], ARGV[2], ARGV[3])
    return current
  end
end
return current
