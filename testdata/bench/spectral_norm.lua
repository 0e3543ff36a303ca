-- The Benchmarks Game spectral-norm for n = 1000: the largest singular value
-- of the infinite matrix A(i, j) = 1 / ((i + j)(i + j + 1) / 2 + i + 1),
-- truncated to n x n, by 10 rounds of the power method on A^T A. Indices
-- run from 0 as in the other peers; arrays are 1-based. (i + j)(i + j + 1)
-- is even, so `/ 2` is exact.

local function eval_a(i, j)
    return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1)
end

local function mult_av(v, out, n)
    for i = 0, n - 1 do
        local sum = 0.0
        for j = 0, n - 1 do
            sum = sum + eval_a(i, j) * v[j + 1]
        end
        out[i + 1] = sum
    end
end

local function mult_atv(v, out, n)
    for i = 0, n - 1 do
        local sum = 0.0
        for j = 0, n - 1 do
            sum = sum + eval_a(j, i) * v[j + 1]
        end
        out[i + 1] = sum
    end
end

local function mult_atav(v, out, tmp, n)
    mult_av(v, tmp, n)
    mult_atv(tmp, out, n)
end

local n = 1000
local u, v, tmp = {}, {}, {}
for i = 1, n do
    u[i] = 1.0
    v[i] = 0.0
    tmp[i] = 0.0
end
for _ = 1, 10 do
    mult_atav(u, v, tmp, n)
    mult_atav(v, u, tmp, n)
end
local vbv, vv = 0.0, 0.0
for i = 1, n do
    vbv = vbv + u[i] * v[i]
    vv = vv + v[i] * v[i]
end
print(string.format("%.9f", math.sqrt(vbv / vv)))
