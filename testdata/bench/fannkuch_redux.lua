-- The Benchmarks Game fannkuch-redux for n = 10: for every permutation of
-- 0..n (in the benchmark's order), count the prefix reversals ("flips") until
-- 0 comes first; print the alternating-sign checksum and the most flips.
-- Positions run from 0 as in the other peers; arrays are 1-based.

local function fannkuch(n)
    local perm1, perm, count = {}, {}, {}
    for i = 0, n - 1 do
        perm1[i + 1] = i
        perm[i + 1] = 0
        count[i + 1] = 0
    end
    local max_flips, checksum, perm_count = 0, 0, 0
    local r = n
    while true do
        while r ~= 1 do
            count[r] = r -- count[r - 1], 1-based
            r = r - 1
        end
        for i = 1, n do
            perm[i] = perm1[i]
        end
        local flips = 0
        local k = perm[1]
        while k ~= 0 do
            local i, j = 0, k
            while i < j do
                local t = perm[i + 1]
                perm[i + 1] = perm[j + 1]
                perm[j + 1] = t
                i = i + 1
                j = j - 1
            end
            flips = flips + 1
            k = perm[1]
        end
        if flips > max_flips then
            max_flips = flips
        end
        if perm_count % 2 == 0 then
            checksum = checksum + flips
        else
            checksum = checksum - flips
        end
        -- The next permutation: rotate the first r + 1 elements left until
        -- one of them has not yet been rotated through.
        while true do
            if r == n then
                return checksum, max_flips
            end
            local perm0 = perm1[1]
            for i = 1, r do
                perm1[i] = perm1[i + 1]
            end
            perm1[r + 1] = perm0
            count[r + 1] = count[r + 1] - 1
            if count[r + 1] > 0 then
                break
            end
            r = r + 1
        end
        perm_count = perm_count + 1
    end
end

local n = 10
local checksum, max_flips = fannkuch(n)
print(string.format("%d", checksum))
print(string.format("Pfannkuchen(%d) = %d", n, max_flips))
