-- Replaces one model's record in the registry hash only if nobody changed it meanwhile.
-- KEYS[1]  the registry hash (model name -> record JSON)
-- ARGV[1]  model name
-- ARGV[2]  expected revision: '' when the model must not exist yet
-- ARGV[3]  the new record JSON, or '' to delete the model
-- Returns 1 when written, 0 when the record's revision is not ARGV[2] (or it exists when it must not).
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if current then return 0 end
else
  if not current then return 0 end
  local revision = cjson.decode(current)['revision']
  if tostring(revision) ~= ARGV[2] then return 0 end
end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 1
