--[[
  raise-recency: records when models were last used, keeping the newest time when
  several proxies write (a time only ever grows).

  KEYS[1]  the recency hash (model name -> ms since the epoch)
  ARGV     pairs: model name, time of its last use in ms
  Returns the number of models whose time was raised.
]]
local raised = 0
for i = 1, #ARGV, 2 do
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  local time = tonumber(ARGV[i + 1])
  if time ~= nil and (current == nil or time > current) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    raised = raised + 1
  end
end
return raised
