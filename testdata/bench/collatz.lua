-- Longest Collatz chain for a start below LIMIT: a data-dependent integer
-- while loop. Values peak below 2^37, so LuaJIT's doubles agree. (`n / 2` of
-- an even n is exact; Lua 5.4 then carries n as a float, LuaJIT always does.)

local function chain_length(start)
    local n = start
    local steps = 1
    while n ~= 1 do
        if n % 2 == 0 then
            n = n / 2
        else
            n = 3 * n + 1
        end
        steps = steps + 1
    end
    return steps
end

local limit = 300000
local best, best_len = 1, 1
for start = 1, limit - 1 do
    local len = chain_length(start)
    if len > best_len then
        best = start
        best_len = len
    end
end
print(string.format("%d %d", best, best_len))
