-- Float loop: count the points of an N x N grid over [-2,1] x [-1.5,1.5] whose
-- orbit stays bounded for MAX_ITER iterations of z = z^2 + c.

local function mandelbrot(size, max_iter)
    local n = size + 0.0
    local count = 0
    for y = 0, size - 1 do
        local ci = (y + 0.0) * 3.0 / n - 1.5
        for x = 0, size - 1 do
            local cr = (x + 0.0) * 3.0 / n - 2.0
            local zr, zi = 0.0, 0.0
            local i = 0
            while i < max_iter and zr * zr + zi * zi <= 4.0 do
                local t = zr * zr - zi * zi + cr
                zi = 2.0 * zr * zi + ci
                zr = t
                i = i + 1
            end
            if i == max_iter then count = count + 1 end
        end
    end
    return count
end

print(string.format("%d", mandelbrot(1000, 200)))
