--[[
  admit: checks every quota dimension of one request, atomically, and consumes them only
  when all pass. One call per admission; every key is in the tenant's hash slot.

  KEYS: one key per check, in check order.
  ARGV[1]  lease member (a unique id of this request)
  ARGV[2]  lease time to live, milliseconds
  ARGV[3]  number of checks N
  then 4 values per check i (ARGV[4 + 4(i-1)] ...):
    kind   'g' rate (GCRA), 'c' concurrency lease, 'b' budget counter
    a, b, c:
      g: emission interval ms (period / rate), burst tolerance ms, quantity
      c: max concurrent, -, -
      b: limit, quantity, time to live of the counter in seconds
  then, after the checks: R, and R lease members to release from the first
    concurrency check's key before checking (finished calls of the same tenant,
    released here instead of by a command of their own).

  Returns
    {0, limit, remaining, reset_ms} when admitted: figures of the first rate check
      (limit -1 when there is none), for x-ratelimit-* metadata;
    {i, retry_after_ms, limit, remaining, reset_ms} when check i (1-based) refuses;
      retry_after_ms is -1 for a budget (no retry will help before the period ends).
  Times come from Redis (TIME), so proxies with skewed clocks agree.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local member = ARGV[1]
local lease_ttl = tonumber(ARGV[2])
local n = tonumber(ARGV[3])

local release_at = 4 + n * 4
local releases = tonumber(ARGV[release_at] or '0')
if releases > 0 then
  for i = 1, n do
    if ARGV[4 + (i - 1) * 4] == 'c' then
      redis.call('ZREM', KEYS[i], unpack(ARGV, release_at + 1, release_at + releases))
      break
    end
  end
end

local new_tats = {}
local first_rate = nil

for i = 1, n do
  local base = 4 + (i - 1) * 4
  local kind = ARGV[base]
  local a, b, c = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  local key = KEYS[i]
  if kind == 'g' then
    local tat = tonumber(redis.call('GET', key) or '0')
    if tat < now then tat = now end
    local new_tat = tat + c * a
    local allow_at = new_tat - b
    -- capacity = burst tolerance / interval, as a count of requests (or inferences)
    local limit = math.floor(b / a + 0.5)
    if allow_at > now then
      local remaining = math.max(0, math.floor((now - (tat - b)) / a))
      return {i, math.ceil(allow_at - now), limit, remaining, math.ceil(tat - now)}
    end
    new_tats[i] = new_tat
    if first_rate == nil then
      first_rate = {limit, math.max(0, math.floor((now - allow_at) / a)), math.ceil(new_tat - now)}
    end
  elseif kind == 'c' then
    local held = redis.call('ZCARD', key)
    if held >= a then
      -- Full: reap expired leases (of crashed proxies) before refusing.
      redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
      held = redis.call('ZCARD', key)
    end
    if held >= a then
      local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
      local retry = 1000
      if oldest[2] then retry = math.max(1, math.min(1000, math.ceil(tonumber(oldest[2]) - now))) end
      return {i, retry, a, 0, retry}
    end
  elseif kind == 'b' then
    local used = tonumber(redis.call('GET', key) or '0')
    if used + b > a then
      return {i, -1, a, math.max(0, a - used), -1}
    end
  end
end

for i = 1, n do
  local base = 4 + (i - 1) * 4
  local kind = ARGV[base]
  local key = KEYS[i]
  if kind == 'g' then
    redis.call('SET', key, string.format('%.3f', new_tats[i]), 'PX', math.ceil(new_tats[i] - now) + 1000)
  elseif kind == 'c' then
    redis.call('ZADD', key, now + lease_ttl, member)
    redis.call('PEXPIRE', key, lease_ttl * 2)
  elseif kind == 'b' then
    local quantity = tonumber(ARGV[base + 2])
    -- The counter's first increment of the period sets its expiry.
    if redis.call('INCRBY', key, quantity) == quantity then
      redis.call('EXPIRE', key, tonumber(ARGV[base + 3]))
    end
  end
end

if first_rate == nil then return {0, -1, -1, -1} end
return {0, first_rate[1], first_rate[2], first_rate[3]}
