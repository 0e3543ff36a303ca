-- The Benchmarks Game binary-trees at max depth 16 (min depth 4): allocate
-- and walk many short-lived complete binary trees beside one long-lived tree.
-- A node is a table { left = ..., right = ... }; a leaf has neither.

local function bottom_up(depth)
    if depth == 0 then
        return { left = nil, right = nil }
    end
    return { left = bottom_up(depth - 1), right = bottom_up(depth - 1) }
end

local function check(node)
    local left, right = node.left, node.right
    if left ~= nil and right ~= nil then
        return 1 + check(left) + check(right)
    end
    return 1
end

local min_depth = 4
local max_depth = 16
local stretch_depth = max_depth + 1

print(string.format("stretch tree of depth %d\t check: %d", stretch_depth, check(bottom_up(stretch_depth))))

local long_lived = bottom_up(max_depth)
for depth = min_depth, max_depth, 2 do
    local iterations = 2 ^ (max_depth - depth + min_depth)
    local total = 0
    for _ = 1, iterations do
        total = total + check(bottom_up(depth))
    end
    print(string.format("%d\t trees of depth %d\t check: %d", iterations, depth, total))
end
print(string.format("long lived tree of depth %d\t check: %d", max_depth, check(long_lived)))
