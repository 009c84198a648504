--[[
  credit: one proxy process takes admissions of one tenant (and model) in advance, to spend
  them itself without a round trip per request, and gives back what it did not spend.
  A credit is taken only from a tenant far from its limits: at most half of what a rate's
  bucket holds now and a tenth of what is left of a budget; and the process may hold idle
  concurrency slots only up to half of the tenant's free room (its own idle slots counted
  as room), and none when less than a quarter of the limit is free. Near a limit nothing
  is granted, and every request is admitted on its own (admit.lua). Every key is in the
  tenant's hash slot.

  KEYS: one key per check, in check order (as admit.lua).
  ARGV[1]  lease time to live, milliseconds
  ARGV[2]  number of checks N; then 5 values per check, as admit.lua
  then the give-back, applied before anything is granted:
    requests, inferences   units of an earlier credit not spent (rate debts and budget
                           counters are reduced by them)
  then the ask:
    requests, inferences   units wanted (inferences: the batch rows the requests will carry)
    min_slots              idle slots the process needs for the credit to be of use (1, or
                           0 when no check is a concurrency limit)
    idle                   slots the process holds and no call uses now (still leases here)
    S, then S new slot members (a slot is one concurrent call, held as a lease)

  Returns {requests, inferences, slots, keep, limit, remaining, reset_ms}: what was granted
  (all the units asked for or none; the first `slots` new members), how many of its idle
  slots the process may keep (it gives the others back), and the figures of the first rate
  check after the grant (limit -1 when there is none).
  Times come from Redis (TIME), so proxies with skewed clocks agree.
]]
-- now, lease_ttl, n and the checks (kind, a, b, ttl, quantity) come from read-checks.lua.
local at = 3 + n * 5
local back_requests = tonumber(ARGV[at])
local back_inferences = tonumber(ARGV[at + 1])
local ask_requests = tonumber(ARGV[at + 2])
local ask_inferences = tonumber(ARGV[at + 3])
local min_slots = tonumber(ARGV[at + 4])
local idle = tonumber(ARGV[at + 5])
local slots_asked = tonumber(ARGV[at + 6])
local first_slot = at + 7

-- What `units` requests carrying `rows` inferences weigh on check i.
local function weight(i, units, rows)
  if quantity[i] < 0 then return rows end
  return quantity[i] * units
end

-- Give back first: what another process (or this one) asks next may use it.
for i = 1, n do
  local key = KEYS[i]
  local q = weight(i, back_requests, back_inferences)
  if kind[i] == 'g' and q > 0 then
    local tat = tonumber(redis.call('GET', key) or '0')
    local new_tat = math.max(now, tat - q * a[i])
    if tat > now then set_tat(key, new_tat) end
  elseif kind[i] == 'b' and q > 0 then
    local used = tonumber(redis.call('GET', key) or '0')
    if used > 0 then redis.call('DECRBY', key, math.min(used, q)) end
  end
end

-- The grant: the share of the ask each check can spare; all of it or nothing is granted.
local share = 1
-- Idle slots the process may hold after this call (its idle ones kept first).
local idle_allowed = nil
local first_rate = nil
local has_lease = false
local tats = {}
for i = 1, n do
  local key = KEYS[i]
  local q = weight(i, ask_requests, ask_inferences)
  if kind[i] == 'g' then
    local tat = math.max(now, tonumber(redis.call('GET', key) or '0'))
    tats[i] = tat
    local spare = math.floor((now + b[i] - tat) / a[i] / 2)
    if q > 0 then share = math.min(share, spare / q) end
  elseif kind[i] == 'c' then
    has_lease = true
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    local room = a[i] - redis.call('ZCARD', key) + idle
    local allowed = 0
    if room * 4 >= a[i] then allowed = math.floor(room / 2) end
    if idle_allowed == nil or allowed < idle_allowed then idle_allowed = allowed end
  elseif kind[i] == 'b' then
    local used = tonumber(redis.call('GET', key) or '0')
    local spare = math.floor((a[i] - used) / 10)
    if q > 0 then share = math.min(share, spare / q) end
  end
end
local keep, slots = idle, 0
if has_lease then
  keep = math.max(0, math.min(idle, idle_allowed))
  slots = math.max(0, math.min(slots_asked, idle_allowed - keep))
end

-- All of the units asked for, or none: a tenant whose spare cannot cover a whole credit
-- is near a limit, where every request must be decided on its own.
local granted_requests, granted_inferences = ask_requests, ask_inferences
if share < 1 or ask_requests < 1 or keep + slots < min_slots then
  granted_requests, granted_inferences, slots, keep = 0, 0, 0, 0
end

for i = 1, n do
  local key = KEYS[i]
  local q = weight(i, granted_requests, granted_inferences)
  if kind[i] == 'g' then
    local new_tat = tats[i] + q * a[i]
    if q > 0 then set_tat(key, new_tat) end
    if first_rate == nil then
      local limit = math.floor(b[i] / a[i] + 0.5)
      first_rate = {limit, math.max(0, math.floor((now + b[i] - new_tat) / a[i])), math.ceil(new_tat - now)}
    end
  elseif kind[i] == 'c' then
    for s = 0, slots - 1 do add_lease(key, ARGV[first_slot + s]) end
  elseif kind[i] == 'b' and q > 0 then
    spend_budget(i, key, q)
  end
end

if first_rate == nil then first_rate = {-1, -1, -1} end
return {granted_requests, granted_inferences, slots, keep, first_rate[1], first_rate[2], first_rate[3]}
