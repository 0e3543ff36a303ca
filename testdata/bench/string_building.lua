-- String building: build a line of 8 fields with += and interpolation, split
-- it, slice, join and replace the pieces, look a piece up with find, parse one
-- back to an integer, and join batches of lines into a page that is split
-- again; a checksum of lengths, positions and values is printed. ASCII only.
-- Searches are plain (string.find's fourth argument); the one gsub pattern,
-- "1", has no magic characters.

local function build_line(i)
    local line = ""
    for k = 0, 7 do
        if k > 0 then
            line = line .. ","
        end
        line = line .. string.format("w%d", (i * 31 + k * 17) % 1000)
    end
    return line
end

local function split(s, sep)
    local parts = {}
    local start = 1
    while true do
        local hit = string.find(s, sep, start, true)
        if hit == nil then
            parts[#parts + 1] = string.sub(s, start)
            return parts
        end
        parts[#parts + 1] = string.sub(s, start, hit - 1)
        start = hit + #sep
    end
end

-- 0-based position of sub in s, or -1.
local function find(s, sub)
    local hit = string.find(s, sub, 1, true)
    if hit == nil then
        return -1
    end
    return hit - 1
end

local iterations = 300000
local total = 0
local page = {}
for i = 0, iterations - 1 do
    local line = build_line(i)
    local fields = split(line, ",")
    local nums = {}
    for _, f in ipairs(fields) do
        nums[#nums + 1] = string.sub(f, 2, #f)
    end
    local joined = table.concat(nums, "-")
    local replaced = (string.gsub(joined, "1", "one"))
    total = total + #replaced
    total = total + find(replaced, "one")
    total = total + tonumber(nums[i % 8 + 1])
    local label = "<" .. nums[1] .. "|" .. nums[8] .. ">"
    total = total + #label
    page[#page + 1] = label
    if #page == 64 then
        local text = table.concat(page, "\n")
        total = total + #text + #split(text, "\n")
        page = {}
    end
end
print(string.format("%d", total))
print(string.format("%d %s", #page, build_line(iterations)))
