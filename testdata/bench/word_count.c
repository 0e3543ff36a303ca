/* Word count: a deterministic stream of words (a Lehmer random number
 * generator picks numbers below 50,000, skewed towards small ones by nested
 * remainders; a number is spelled in base-16 syllables), counted in a hash
 * table; prints the number of distinct words, the counts of a few words and a
 * checksum over the words in insertion order. The table is open addressing
 * with linear probing over indices into an insertion-ordered entry array,
 * like Python's dict; every word is its own malloc. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const SYLLABLES[16] = {"a",  "ka", "ri", "to", "mu", "ne", "so", "hi",
                                          "ya", "ze", "po", "lu", "ba", "di", "fe", "go"};

#define WORD_MAX 64

typedef struct Entry {
    char *word;
    size_t len;
    uint64_t hash;
    int64_t count;
} Entry;

typedef struct Counts {
    Entry *entries; /* in insertion order */
    int64_t len, cap;
    int64_t *slots; /* entry index + 1; 0 is empty */
    uint64_t mask;
} Counts;

static void *xrealloc(void *p, size_t size) {
    p = realloc(p, size);
    if (p == NULL) {
        fputs("out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static uint64_t fnv1a(const char *s, size_t len) {
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    /* FNV's low bits mix poorly, and the table indexes with them. */
    return h ^ (h >> 32);
}

static void counts_init(Counts *c) {
    c->cap = 8;
    c->len = 0;
    c->entries = xrealloc(NULL, (size_t)c->cap * sizeof(Entry));
    c->mask = 15;
    c->slots = calloc(c->mask + 1, sizeof(int64_t));
    if (c->slots == NULL)
        exit(1);
}

static void counts_rehash(Counts *c) {
    free(c->slots);
    c->mask = c->mask * 2 + 1;
    c->slots = calloc(c->mask + 1, sizeof(int64_t));
    if (c->slots == NULL)
        exit(1);
    for (int64_t e = 0; e < c->len; e++) {
        uint64_t i = c->entries[e].hash & c->mask;
        while (c->slots[i] != 0)
            i = (i + 1) & c->mask;
        c->slots[i] = e + 1;
    }
}

/* The entry of word, or NULL. */
static Entry *counts_get(const Counts *c, const char *word, size_t len) {
    uint64_t h = fnv1a(word, len);
    for (uint64_t i = h & c->mask; c->slots[i] != 0; i = (i + 1) & c->mask) {
        Entry *e = &c->entries[c->slots[i] - 1];
        if (e->hash == h && e->len == len && memcmp(e->word, word, len) == 0)
            return e;
    }
    return NULL;
}

/* Adds one to word's count, inserting it with count 1 if new. */
static void counts_add(Counts *c, const char *word, size_t len) {
    uint64_t h = fnv1a(word, len);
    uint64_t i = h & c->mask;
    for (; c->slots[i] != 0; i = (i + 1) & c->mask) {
        Entry *e = &c->entries[c->slots[i] - 1];
        if (e->hash == h && e->len == len && memcmp(e->word, word, len) == 0) {
            e->count += 1;
            return;
        }
    }
    if (c->len == c->cap) {
        c->cap *= 2;
        c->entries = xrealloc(c->entries, (size_t)c->cap * sizeof(Entry));
    }
    Entry *e = &c->entries[c->len];
    e->word = xrealloc(NULL, len + 1);
    memcpy(e->word, word, len + 1);
    e->len = len;
    e->hash = h;
    e->count = 1;
    c->len += 1;
    c->slots[i] = c->len;
    /* Keep the load factor at most 1/2. */
    if ((uint64_t)c->len * 2 > c->mask + 1)
        counts_rehash(c);
}

/* The Park-Miller generator: state * 48271 stays below 2^47. */
static int64_t rng_next(int64_t *state) {
    *state = *state * 48271 % 2147483647;
    return *state;
}

static size_t make_word(int64_t r, char *word) {
    int64_t n = r;
    size_t len = 0;
    do {
        const char *s = SYLLABLES[n % 16];
        size_t l = strlen(s);
        memcpy(word + len, s, l);
        len += l;
        n = n / 16;
    } while (n > 0);
    word[len] = '\0';
    return len;
}

int main(void) {
    int64_t words = 3000000;
    int64_t vocabulary = 50000;
    int64_t state = 42;
    Counts counts;
    counts_init(&counts);
    for (int64_t w = 0; w < words; w++) {
        int64_t a = rng_next(&state);
        int64_t b = rng_next(&state);
        int64_t c = rng_next(&state);
        char word[WORD_MAX];
        size_t len = make_word(a % (b % (c % vocabulary + 1) + 1), word);
        counts_add(&counts, word, len);
    }
    int64_t checksum = 0;
    for (int64_t e = 0; e < counts.len; e++)
        checksum = (checksum * 31 + counts.entries[e].count * (int64_t)counts.entries[e].len + e) % 1000000007;
    printf("distinct %lld\n", (long long)counts.len);
    const char *probes[] = {"a", "ka", "aka", "kaka", "gogo", "rifego"};
    for (size_t p = 0; p < sizeof probes / sizeof probes[0]; p++) {
        const Entry *e = counts_get(&counts, probes[p], strlen(probes[p]));
        printf("%s %lld\n", probes[p], (long long)(e != NULL ? e->count : 0));
    }
    printf("checksum %lld\n", (long long)checksum);
    for (int64_t e = 0; e < counts.len; e++)
        free(counts.entries[e].word);
    free(counts.entries);
    free(counts.slots);
    return 0;
}
