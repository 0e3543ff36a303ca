# Longest Collatz chain for a start below LIMIT: a data-dependent integer
# while loop.


def chain_length(start):
    n = start
    steps = 1
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


def main():
    limit = 300000
    best = 1
    best_len = 1
    start = 1
    while start < limit:
        length = chain_length(start)
        if length > best_len:
            best = start
            best_len = length
        start += 1
    print(best, best_len)


main()
