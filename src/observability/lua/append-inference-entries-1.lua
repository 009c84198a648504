--[[
  append-inference-entries: appends a batch of inference audit entries to the stream in
  one call (the client's cost is one command per batch, not one per entry), trimming by
  age as it goes and by count once at the end.

  KEYS[1]  the inference audit stream
  ARGV[1]  MINID: entries older than this id (milliseconds) may be trimmed (~)
  ARGV[2]  MAXLEN: the stream keeps about this many newest entries (~)
  ARGV[3]  the number of fields per entry, F
  ARGV[4..] the entries: each one string of F values joined by the unit separator (0x1f),
            in the order of the field names, which come first as an entry of their own
  Returns the number of entries appended.
]]
local stream = KEYS[1]
local fieldCount = tonumber(ARGV[3])
local separator = '\31'

local function split(packed)
  local values = {}
  local start = 1
  for _ = 1, fieldCount - 1 do
    local stop = string.find(packed, separator, start, true)
    if stop == nil then return nil end
    values[#values + 1] = string.sub(packed, start, stop - 1)
    start = stop + 1
  end
  values[#values + 1] = string.sub(packed, start)
  return values
end

local names = split(ARGV[4])
if names == nil then return redis.error_reply('ERR the field names entry does not hold ' .. fieldCount .. ' fields') end
local appended = 0
for index = 5, #ARGV do
  local values = split(ARGV[index])
  if values ~= nil then
    local arguments = { 'XADD', stream, 'MINID', '~', ARGV[1], '*' }
    for position = 1, fieldCount do
      arguments[#arguments + 1] = names[position]
      arguments[#arguments + 1] = values[position]
    end
    redis.call(unpack(arguments))
    appended = appended + 1
  end
end
redis.call('XTRIM', stream, 'MAXLEN', '~', ARGV[2])
return appended
