/* The Benchmarks Game binary-trees at max depth 16 (min depth 4): allocate
 * and walk many short-lived complete binary trees beside one long-lived tree.
 * Every node is its own malloc, and every tree is freed node by node. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct Node {
    struct Node *left;
    struct Node *right;
} Node;

static Node *bottom_up(int64_t depth) {
    Node *node = malloc(sizeof *node);
    if (node == NULL) {
        fputs("out of memory\n", stderr);
        exit(1);
    }
    if (depth == 0) {
        node->left = NULL;
        node->right = NULL;
    } else {
        node->left = bottom_up(depth - 1);
        node->right = bottom_up(depth - 1);
    }
    return node;
}

static int64_t check(const Node *node) {
    if (node->left != NULL && node->right != NULL)
        return 1 + check(node->left) + check(node->right);
    return 1;
}

static void free_tree(Node *node) {
    if (node->left != NULL)
        free_tree(node->left);
    if (node->right != NULL)
        free_tree(node->right);
    free(node);
}

int main(void) {
    int64_t min_depth = 4;
    int64_t max_depth = 16;
    int64_t stretch_depth = max_depth + 1;

    Node *stretch = bottom_up(stretch_depth);
    printf("stretch tree of depth %lld\t check: %lld\n", (long long)stretch_depth, (long long)check(stretch));
    free_tree(stretch);

    Node *long_lived = bottom_up(max_depth);
    for (int64_t depth = min_depth; depth <= max_depth; depth += 2) {
        int64_t iterations = (int64_t)1 << (max_depth - depth + min_depth);
        int64_t sum = 0;
        for (int64_t i = 0; i < iterations; i++) {
            Node *tree = bottom_up(depth);
            sum += check(tree);
            free_tree(tree);
        }
        printf("%lld\t trees of depth %lld\t check: %lld\n", (long long)iterations, (long long)depth, (long long)sum);
    }
    printf("long lived tree of depth %lld\t check: %lld\n", (long long)max_depth, (long long)check(long_lived));
    free_tree(long_lived);
    return 0;
}
