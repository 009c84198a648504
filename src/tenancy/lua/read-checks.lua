--[[
  read-checks: the opening of admit.lua and credit.lua (prepended to each when loaded).
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
