-- Word count: a deterministic stream of words (a Lehmer random number
-- generator picks numbers below 50,000, skewed towards small ones by nested
-- remainders; a number is spelled in base-16 syllables), counted in a table;
-- prints the number of distinct words, the counts of a few words and a
-- checksum over the words in insertion order, which the array `keys` keeps.

local SYLLABLES = { "a", "ka", "ri", "to", "mu", "ne", "so", "hi", "ya", "ze", "po", "lu", "ba", "di", "fe", "go" }

-- The Park-Miller generator: state * 48271 stays below 2^47.
local function new_rng(state)
    return function()
        state = state * 48271 % 2147483647
        return state
    end
end

local function make_word(r, syllables)
    local n = r
    local word = syllables[n % 16 + 1]
    n = math.floor(n / 16)
    while n > 0 do
        word = word .. syllables[n % 16 + 1]
        n = math.floor(n / 16)
    end
    return word
end

local words = 3000000
local vocabulary = 50000
local next_random = new_rng(42)
local counts = {}
local keys = {}
local distinct = 0
for _ = 1, words do
    local a = next_random()
    local b = next_random()
    local c = next_random()
    local word = make_word(a % (b % (c % vocabulary + 1) + 1), SYLLABLES)
    local count = counts[word]
    if count == nil then
        distinct = distinct + 1
        keys[distinct] = word
        counts[word] = 1
    else
        counts[word] = count + 1
    end
end
local checksum = 0
for index = 0, distinct - 1 do
    local word = keys[index + 1]
    checksum = (checksum * 31 + counts[word] * #word + index) % 1000000007
end
print(string.format("distinct %d", distinct))
for _, word in ipairs({ "a", "ka", "aka", "kaka", "gogo", "rifego" }) do
    print(string.format("%s %d", word, counts[word] or 0))
end
print(string.format("checksum %d", checksum))
