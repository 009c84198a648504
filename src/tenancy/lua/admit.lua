--[[
  admit: admits a batch of requests of one tenant (and model): for each request in turn,
  every quota dimension is checked and, only when all pass, consumed. One call admits
  every request of the tenant that reached this proxy in one turn of its event loop;
  every key is in the tenant's hash slot.

  KEYS: one key per check, in check order.
  ARGV[1]  lease time to live, milliseconds
  ARGV[2]  number of checks N; then 5 values per check:
    kind      'g' rate (GCRA), 'c' concurrency lease, 'b' budget counter
    a         g: emission interval ms (period / rate); c: max concurrent; b: limit
    b         g: burst tolerance ms; otherwise unused
    ttl       b: time to live of the counter in seconds; otherwise unused
    quantity  a number, or -1 for the request's own inference count
  then R, and R lease members to release from the first concurrency check's key before
    anything is checked (finished calls of this tenant, released here instead of by a
    command of their own);
  then M, and 2 values per request: its lease member, its inference count.

  Returns 5 numbers per request, in request order:
    {0, limit, remaining, reset_ms, 0} admitted: figures of the first rate check
      (limit -1 when there is none), for x-ratelimit-* metadata;
    {i, retry_after_ms, limit, remaining, reset_ms} refused by check i (1-based);
      retry_after_ms is -1 for a budget (no retry helps before the period ends).
  Times come from Redis (TIME), so proxies with skewed clocks agree.
]]
-- now, lease_ttl, n and the checks (kind, a, b, ttl, quantity) come from read-checks.lua.
local first_lease = nil
for i = 1, n do
  if kind[i] == 'c' and first_lease == nil then first_lease = i end
end

local at = 3 + n * 5
local releases = tonumber(ARGV[at])
if releases > 0 and first_lease ~= nil then
  redis.call('ZREM', KEYS[first_lease], unpack(ARGV, at + 1, at + releases))
end
at = at + releases + 1
local requests = tonumber(ARGV[at])

local results = {}
local lease_count = {}
for r = 1, requests do
  local member = ARGV[at + 1 + (r - 1) * 2]
  local inferences = tonumber(ARGV[at + 2 + (r - 1) * 2])
  local refused = nil
  local new_tats = {}
  local first_rate = nil
  for i = 1, n do
    local q = quantity[i]
    if q < 0 then q = inferences end
    local key = KEYS[i]
    if kind[i] == 'g' then
      local tat = tonumber(redis.call('GET', key) or '0')
      if tat < now then tat = now end
      local new_tat = tat + q * a[i]
      local allow_at = new_tat - b[i]
      local limit = math.floor(b[i] / a[i] + 0.5)
      if allow_at > now then
        local remaining = math.max(0, math.floor((now - (tat - b[i])) / a[i]))
        refused = {i, math.ceil(allow_at - now), limit, remaining, math.ceil(tat - now)}
        break
      end
      new_tats[i] = new_tat
      if first_rate == nil then
        first_rate = {limit, math.max(0, math.floor((now - allow_at) / a[i])), math.ceil(new_tat - now)}
      end
    elseif kind[i] == 'c' then
      local held = lease_count[i]
      if held == nil then held = redis.call('ZCARD', key) end
      if held >= a[i] then
        -- Full: reap expired leases (of crashed proxies) before refusing.
        redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
        held = redis.call('ZCARD', key)
      end
      lease_count[i] = held
      if held >= a[i] then
        local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
        local retry = 1000
        if oldest[2] then retry = math.max(1, math.min(1000, math.ceil(tonumber(oldest[2]) - now))) end
        refused = {i, retry, a[i], 0, retry}
        break
      end
    elseif kind[i] == 'b' then
      local used = tonumber(redis.call('GET', key) or '0')
      if used + q > a[i] then
        refused = {i, -1, a[i], math.max(0, a[i] - used), -1}
        break
      end
    end
  end

  if refused ~= nil then
    for _, value in ipairs(refused) do results[#results + 1] = value end
  else
    for i = 1, n do
      local q = quantity[i]
      if q < 0 then q = inferences end
      local key = KEYS[i]
      if kind[i] == 'g' then
        set_tat(key, new_tats[i])
      elseif kind[i] == 'c' then
        add_lease(key, member)
        lease_count[i] = lease_count[i] + 1
      elseif kind[i] == 'b' then
        spend_budget(i, key, q)
      end
    end
    if first_rate == nil then first_rate = {-1, -1, -1} end
    results[#results + 1] = 0
    results[#results + 1] = first_rate[1]
    results[#results + 1] = first_rate[2]
    results[#results + 1] = first_rate[3]
    results[#results + 1] = 0
  end
end
return results
