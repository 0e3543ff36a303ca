# The Benchmarks Game binary-trees at max depth 16 (min depth 4): allocate
# and walk many short-lived complete binary trees beside one long-lived tree.


class Node:
    __slots__ = ("left", "right")

    def __init__(self, left, right):
        self.left = left
        self.right = right

    def check(self):
        left = self.left
        right = self.right
        if left is not None and right is not None:
            return 1 + left.check() + right.check()
        return 1


def bottom_up(depth):
    if depth == 0:
        return Node(None, None)
    return Node(bottom_up(depth - 1), bottom_up(depth - 1))


def main():
    min_depth = 4
    max_depth = 16
    stretch_depth = max_depth + 1

    print(f"stretch tree of depth {stretch_depth}\t check: {bottom_up(stretch_depth).check()}")

    long_lived = bottom_up(max_depth)
    depth = min_depth
    while depth <= max_depth:
        iterations = 1 << (max_depth - depth + min_depth)
        total = 0
        for _ in range(iterations):
            total += bottom_up(depth).check()
        print(f"{iterations}\t trees of depth {depth}\t check: {total}")
        depth += 2
    print(f"long lived tree of depth {max_depth}\t check: {long_lived.check()}")


main()
