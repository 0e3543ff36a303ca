-- Integer loops: a nested-loop checksum that mixes multiply and modulo (each
-- step depends on the last), then a prime count by trial division.
-- Every intermediate value stays below 2^53, so LuaJIT's doubles agree.

local function mix(n)
    local acc = 0
    for i = 0, n - 1 do
        for j = 0, n - 1 do
            acc = (acc * 31 + i * j + (i + j) % 7) % 1000003
        end
    end
    return acc
end

local function is_prime(n)
    if n < 2 then return false end
    if n % 2 == 0 then return n == 2 end
    local d = 3
    while d * d <= n do
        if n % d == 0 then return false end
        d = d + 2
    end
    return true
end

local function count_primes(limit)
    local count = 0
    local n = 0
    while n < limit do
        if is_prime(n) then count = count + 1 end
        n = n + 1
    end
    return count
end

print(string.format("%d", mix(6000)))
print(string.format("%d", count_primes(1000000)))
