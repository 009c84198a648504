--[[
  read-checks: the opening of admit.lua and credit.lua (prepended to each when loaded),
  and the writes both make.
  Reads Redis's clock (so proxies with skewed clocks agree) and the checks of ARGV:
  ARGV[1] lease time to live (ms), ARGV[2] number of checks N, then 5 values per check
  (kind, a, b, ttl, quantity; see admit.lua).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local lease_ttl = tonumber(ARGV[1])
local n = tonumber(ARGV[2])

local kind, a, b, ttl, quantity = {}, {}, {}, {}, {}
for i = 1, n do
  local base = 3 + (i - 1) * 5
  kind[i] = ARGV[base]
  a[i] = tonumber(ARGV[base + 1])
  b[i] = tonumber(ARGV[base + 2])
  ttl[i] = tonumber(ARGV[base + 3])
  quantity[i] = tonumber(ARGV[base + 4])
end

-- A rate's new theoretical arrival time; the key lives until the bucket is full again.
local function set_tat(key, tat)
  redis.call('SET', key, string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
end

-- A concurrency lease held until now + lease_ttl (renewed while its call runs).
local function add_lease(key, member)
  redis.call('ZADD', key, now + lease_ttl, member)
  redis.call('PEXPIRE', key, lease_ttl * 2)
end

-- Spends q of budget check i; the counter's first increment of the period sets its expiry.
local function spend_budget(i, key, q)
  if redis.call('INCRBY', key, q) == q then
    redis.call('EXPIRE', key, ttl[i])
  end
end
