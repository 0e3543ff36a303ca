# Integer loops: a nested-loop checksum that mixes multiply and modulo (each
# step depends on the last), then a prime count by trial division.


def mix(n):
    acc = 0
    for i in range(n):
        for j in range(n):
            acc = (acc * 31 + i * j + (i + j) % 7) % 1000003
    return acc


def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True


def count_primes(limit):
    count = 0
    n = 0
    while n < limit:
        if is_prime(n):
            count += 1
        n += 1
    return count


def main():
    print(mix(6000))
    print(count_primes(1000000))


main()
