# Word count: a deterministic stream of words (a Lehmer random number
# generator picks numbers below 50,000, skewed towards small ones by nested
# remainders; a number is spelled in base-16 syllables), counted in a dict;
# prints the number of distinct words, the counts of a few words and a
# checksum over the dict in insertion order.

SYLLABLES = ["a", "ka", "ri", "to", "mu", "ne", "so", "hi", "ya", "ze", "po", "lu", "ba", "di", "fe", "go"]


class Rng:
    """The Park-Miller generator: state * 48271 stays below 2^47."""

    __slots__ = ("state",)

    def __init__(self, state):
        self.state = state

    def next(self):
        self.state = self.state * 48271 % 2147483647
        return self.state


def make_word(r, syllables):
    n = r
    word = syllables[n % 16]
    n = n // 16
    while n > 0:
        word += syllables[n % 16]
        n = n // 16
    return word


def main():
    words = 3000000
    vocabulary = 50000
    rng = Rng(42)
    counts = {}
    for _ in range(words):
        a = rng.next()
        b = rng.next()
        c = rng.next()
        word = make_word(a % (b % (c % vocabulary + 1) + 1), SYLLABLES)
        counts[word] = counts.get(word, 0) + 1
    checksum = 0
    index = 0
    for word, count in counts.items():
        checksum = (checksum * 31 + count * len(word) + index) % 1000000007
        index += 1
    print(f"distinct {len(counts)}")
    for word in ["a", "ka", "aka", "kaka", "gogo", "rifego"]:
        print(f"{word} {counts.get(word, 0)}")
    print(f"checksum {checksum}")


main()
