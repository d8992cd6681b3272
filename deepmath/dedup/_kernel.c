/* deepmath.dedup._kernel: normalise -> word n-gram shingle hashes -> MinHash signature, one pass per document.
 *
 * The compiled twin of shingles.py (`shingle_batch`) + signatures.py (`signatures`): the same character table, the
 * same polynomial span hash and fmix64, the same datasketch permutations ("affine32": fmix32 then a*h+b in uint32;
 * "legacy": (a*h+b) mod 2^61-1 in wrapping uint64, masked to 32 bits). The numpy path materialises a
 * (num_perm x shingles) matrix per chunk; here each shingle's 128 permuted values are folded into the running
 * minimum at once, so nothing larger than one document's canonical text is ever allocated.
 *
 * A character whose table entry carries the slow flag is looked up in the expansions (the BMP characters that fold
 * to several characters with a word character among them, e.g. "™" -> "tm", "½" -> "1⁄2"), whose characters go
 * through the same steps. Documents with a character that is neither (a code point outside the BMP not seen yet)
 * or with more than EXTRA characters added by expansions are not processed: their `slow` flag is set and the
 * caller runs them through the numpy path (which also fills the table for the code points it resolves).
 * tests/dedup/test_kernel.py checks both paths give bit-identical hashes, signatures and normalised text.
 *
 * No numpy C API: arrays come in through the buffer protocol, so building needs only a C compiler and Python's
 * headers (setup.py builds it as an optional extension; without it, kernel.py falls back to numpy).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SPACE 32u
#define SLOW_BIT (1u << 30)
#define CJK_BIT (1u << 31)
#define POLY 0x9E3779B97F4A7C15ull
#define MERSENNE ((1ull << 61) - 1)
/* characters a document's expansions may add (beyond that the numpy path takes it): the output buffers hold
 * 2 * (characters + EXTRA) + 1 canonical characters per document */
#define EXTRA 64

#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
/* one build runs on every x86-64 machine: the loader picks the widest vector unit the CPU has */
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef VECTOR_CLONES
#define VECTOR_CLONES
#endif

static inline uint64_t fmix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 33);
}

static inline uint32_t fmix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    return h ^ (h >> 16);
}

/* running minimum of a*fmix32(h)+b over the shingle hashes of one document (uint32 wraparound = mod 2^32), BLOCK
 * permutations at a time: their minima stay in vector registers while every shingle goes by (`mixed` holds the
 * fmix32 of each hash, computed once) */
#define BLOCK 32
VECTOR_CLONES
static void minhash_affine32(const uint32_t *hashes, Py_ssize_t n, const uint32_t *a, const uint32_t *b,
                             Py_ssize_t num_perm, uint32_t *out, uint32_t *mixed) {
    for (Py_ssize_t i = 0; i < n; i++) mixed[i] = fmix32(hashes[i]);
    Py_ssize_t k0 = 0;
    for (; k0 + BLOCK <= num_perm; k0 += BLOCK) {
        uint32_t acc[BLOCK], pa[BLOCK], pb[BLOCK];
        for (int k = 0; k < BLOCK; k++) {
            acc[k] = UINT32_MAX;
            pa[k] = a[k0 + k];
            pb[k] = b[k0 + k];
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            const uint32_t x = mixed[i];
            for (int k = 0; k < BLOCK; k++) {
                const uint32_t v = pa[k] * x + pb[k];
                acc[k] = v < acc[k] ? v : acc[k];
            }
        }
        memcpy(out + k0, acc, sizeof(acc));
    }
    for (Py_ssize_t k = k0; k < num_perm; k++) { /* the permutations after the last whole block */
        uint32_t m = UINT32_MAX;
        for (Py_ssize_t i = 0; i < n; i++) {
            const uint32_t v = a[k] * mixed[i] + b[k];
            m = v < m ? v : m;
        }
        out[k] = m;
    }
}

/* datasketch < 2.0: (a*h + b) % (2^61 - 1) & (2^32 - 1), a*h wrapping in uint64 exactly as numpy computes it */
static void minhash_legacy(const uint32_t *hashes, Py_ssize_t n, const uint64_t *a, const uint64_t *b,
                           Py_ssize_t num_perm, uint64_t *out) {
    for (Py_ssize_t k = 0; k < num_perm; k++) out[k] = UINT32_MAX;
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint64_t x = hashes[i];
        for (Py_ssize_t k = 0; k < num_perm; k++) {
            const uint64_t v = ((a[k] * x + b[k]) % MERSENNE) & 0xFFFFFFFFull;
            out[k] = v < out[k] ? v : out[k];
        }
    }
}

typedef struct {
    Py_buffer view;
    int held;
} Buffer;

static int get_buffer(PyObject *obj, Buffer *buf, Py_ssize_t itemsize, int writable, const char *name) {
    if (PyObject_GetBuffer(obj, &buf->view, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0) return -1;
    buf->held = 1;
    if (itemsize > 0 && buf->view.itemsize != itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: expected items of %zd bytes, got %zd", name, itemsize,
                     buf->view.itemsize);
        return -1;
    }
    return 0;
}

static void release(Buffer *buf) {
    if (buf->held) PyBuffer_Release(&buf->view);
    buf->held = 0;
}

/* Grow a scratch array to hold at least `need` items (keeps its contents). */
static int reserve(void **ptr, Py_ssize_t *cap, Py_ssize_t need, size_t itemsize) {
    if (need <= *cap) return 0;
    Py_ssize_t size = *cap ? *cap : 1024;
    while (size < need) size *= 2;
    void *grown = realloc(*ptr, (size_t)size * itemsize);
    if (!grown) {
        PyErr_NoMemory();
        return -1;
    }
    *ptr = grown;
    *cap = size;
    return 0;
}

/* P^i and P^-i mod 2^64 for i < need (P is odd, so invertible mod 2^64) */
static int grow_powers(uint64_t **powers, uint64_t **inverse, Py_ssize_t *cap, Py_ssize_t *len, Py_ssize_t need) {
    if (need <= *len) return 0;
    Py_ssize_t cap_inverse = *cap;
    if (reserve((void **)powers, cap, need, sizeof(uint64_t)) < 0 ||
        reserve((void **)inverse, &cap_inverse, need, sizeof(uint64_t)) < 0)
        return -1;
    uint64_t p_inv = POLY; /* Newton's iteration for the inverse mod 2^64: each step doubles the correct bits */
    for (int k = 0; k < 6; k++) p_inv *= 2 - POLY * p_inv;
    if (*len == 0) {
        (*powers)[0] = (*inverse)[0] = 1;
        *len = 1;
    }
    for (; *len < need; (*len)++) {
        (*powers)[*len] = (*powers)[*len - 1] * POLY;
        (*inverse)[*len] = (*inverse)[*len - 1] * p_inv;
    }
    return 0;
}

/* One document's canonical text: `out` gets its word characters with one space after each word (every CJK
 * character a word of its own); `slow` is set when a character has no entry
 * (its fold is not resolved yet: the numpy path takes the document). */
typedef struct {
    uint32_t *out;
    Py_ssize_t len;
    int slow;
} Canonical;

/* Folds to several characters with a word character among them (table entry SPACE | SLOW_BIT): the sorted code
 * points `keys` and, for key k, the table entries of its fold's characters values[starts[k]:starts[k + 1]]. */
typedef struct {
    const uint32_t *keys;
    const int64_t *starts;
    const uint32_t *values;
    Py_ssize_t n;
} Expansions;

static Py_ssize_t find_expansion(const Expansions *x, uint32_t code) {
    Py_ssize_t lo = 0, hi = x->n;
    while (lo < hi) {
        const Py_ssize_t mid = (lo + hi) / 2;
        if (x->keys[mid] < code) lo = mid + 1;
        else hi = mid;
    }
    return lo < x->n && x->keys[lo] == code ? lo : -1;
}

/* One table entry into the canonical text, branch-free (word boundaries are too frequent to predict): both stores
 * happen and the length advances only where a store is meant. A space ends the open word before a non-word
 * character, and between two word characters where either is CJK. Words are found afterwards (the spaces). */
#define STEP(ENTRY)                                                                                            \
    do {                                                                                                       \
        const uint32_t e_ = (ENTRY);                                                                           \
        const int word = e_ != SPACE, cjk = (int)(e_ >> 31);                                                   \
        const int brk = in_word & ((!word) | cjk | prev_cjk);                                                  \
        out[len] = SPACE;                                                                                      \
        len += brk;                                                                                            \
        out[len] = e_ & ~CJK_BIT;                                                                              \
        len += word;                                                                                           \
        in_word = word;                                                                                        \
        prev_cjk = cjk;                                                                                        \
    } while (0)

/* out must hold 2 * (length + EXTRA) + 1 items */
#define CANONICAL(NAME, CHAR)                                                                                   \
    static void NAME(Canonical *c, const CHAR *text, Py_ssize_t length, const uint32_t *tab,                   \
                     const Expansions *x) {                                                                    \
        uint32_t *out = c->out;                                                                                \
        Py_ssize_t len = 0;                                                                                    \
        int in_word = 0, prev_cjk = 0, slow = 0;                                                               \
        Py_ssize_t extra = 0;                                                                                  \
        for (Py_ssize_t i = 0; i < length; i++) {                                                              \
            const uint32_t entry = tab[text[i]];                                                               \
            if (entry & SLOW_BIT) {                                                                            \
                const Py_ssize_t k = find_expansion(x, text[i]);                                               \
                extra += k < 0 ? 0 : x->starts[k + 1] - x->starts[k] - 1;                                      \
                if (k < 0 || extra > EXTRA) {                                                                  \
                    slow = 1;                                                                                  \
                    break;                                                                                     \
                }                                                                                              \
                for (int64_t v = x->starts[k]; v < x->starts[k + 1]; v++) STEP(x->values[v]);                  \
                continue;                                                                                      \
            }                                                                                                  \
            STEP(entry);                                                                                       \
        }                                                                                                      \
        if (in_word) out[len++] = SPACE;                                                                       \
        c->len = len;                                                                                          \
        c->slow = slow;                                                                                        \
    }

CANONICAL(canonical_1, Py_UCS1)
CANONICAL(canonical_2, Py_UCS2)
CANONICAL(canonical_4, Py_UCS4)

PyDoc_STRVAR(sketch_doc,
             "sketch(texts, table, keys, starts, values, ngram, a, b, sigs, hashes, offsets, canon, canon_bounds,\n"
             "       n_words, slow)\n\n"
             "Normalise, shingle, hash and MinHash every text of the list `texts` (see _kernel.c); fills the output\n"
             "buffers: sigs (docs x num_perm, the dtype of a/b), hashes (uint32, capacity >= characters + 64 x docs),\n"
             "offsets (int64, docs + 1), canon (uint32, capacity >= 2 x that), canon_bounds (int64,\n"
             "docs + 1), n_words (int64, docs), slow (uint8, docs). Returns (shingles written, canonical length).");

static PyObject *sketch(PyObject *self, PyObject *args) {
    PyObject *texts, *o_table, *o_keys, *o_starts, *o_values, *o_a, *o_b, *o_sigs, *o_hashes, *o_offsets, *o_canon, *o_cb, *o_words, *o_slow;
    Py_ssize_t ngram;
    if (!PyArg_ParseTuple(args, "O!OOOOnOOOOOOOOO", &PyList_Type, &texts, &o_table, &o_keys, &o_starts, &o_values,
                          &ngram, &o_a, &o_b, &o_sigs,
                          &o_hashes, &o_offsets, &o_canon, &o_cb, &o_words, &o_slow))
        return NULL;
    if (ngram < 1) return PyErr_Format(PyExc_ValueError, "ngram must be at least 1, got %zd", ngram);
    Buffer table = {0}, keys = {0}, starts = {0}, values = {0}, a = {0}, b = {0}, sigs = {0}, hashes = {0}, offsets = {0}, canon = {0}, cb = {0},
           words = {0}, slow = {0};
    PyObject *result = NULL;
    uint64_t *prefix = NULL, *powers = NULL, *inverse = NULL;
    Py_ssize_t *word_end = NULL;
    Py_ssize_t prefix_cap = 0, powers_cap = 0, powers_len = 0, end_cap = 0;
    const Py_ssize_t n_docs = PyList_GET_SIZE(texts);

    if (get_buffer(o_table, &table, 4, 0, "table") < 0 || get_buffer(o_keys, &keys, 4, 0, "keys") < 0 ||
        get_buffer(o_starts, &starts, 8, 0, "starts") < 0 || get_buffer(o_values, &values, 4, 0, "values") < 0 ||
        get_buffer(o_a, &a, -1, 0, "a") < 0)
        goto done;
    const Expansions expand = {keys.view.buf, starts.view.buf, values.view.buf, keys.view.len / 4};
    if (starts.view.len != (expand.n + 1) * 8 ||
        (expand.n && ((const int64_t *)starts.view.buf)[expand.n] * 4 != values.view.len)) {
        PyErr_SetString(PyExc_ValueError, "sketch: expansion keys, starts and values do not match");
        goto done;
    }
    const Py_ssize_t width = a.view.itemsize;
    if (width != 4 && width != 8) {
        PyErr_SetString(PyExc_ValueError, "a: uint32 (affine32) or uint64 (legacy) permutation parameters");
        goto done;
    }
    if (get_buffer(o_b, &b, width, 0, "b") < 0 || get_buffer(o_sigs, &sigs, width, 1, "sigs") < 0 ||
        get_buffer(o_hashes, &hashes, 4, 1, "hashes") < 0 || get_buffer(o_offsets, &offsets, 8, 1, "offsets") < 0 ||
        get_buffer(o_canon, &canon, 4, 1, "canon") < 0 || get_buffer(o_cb, &cb, 8, 1, "canon_bounds") < 0 ||
        get_buffer(o_words, &words, 8, 1, "n_words") < 0 || get_buffer(o_slow, &slow, 1, 1, "slow") < 0)
        goto done;
    const Py_ssize_t num_perm = a.view.len / width;
    const Py_ssize_t table_len = table.view.len / 4;
    const Py_ssize_t hash_cap = hashes.view.len / 4, canon_cap = canon.view.len / 4;
    if (b.view.len != a.view.len || num_perm < 1 || sigs.view.len != n_docs * num_perm * width ||
        offsets.view.len != (n_docs + 1) * 8 || cb.view.len != (n_docs + 1) * 8 || words.view.len != n_docs * 8 ||
        slow.view.len != n_docs || table_len < 0x110000) {
        PyErr_SetString(PyExc_ValueError, "sketch: output buffers do not match the number of documents");
        goto done;
    }
    const uint32_t *tab = (const uint32_t *)table.view.buf;
    uint32_t *hash_out = (uint32_t *)hashes.view.buf, *canon_out = (uint32_t *)canon.view.buf;
    int64_t *off_out = (int64_t *)offsets.view.buf, *cb_out = (int64_t *)cb.view.buf;
    int64_t *words_out = (int64_t *)words.view.buf;
    uint8_t *slow_out = (uint8_t *)slow.view.buf;
    Py_ssize_t n_hash = 0, n_canon = 0;
    off_out[0] = 0;
    cb_out[0] = 0;

    for (Py_ssize_t d = 0; d < n_docs; d++) {
        PyObject *text = PyList_GET_ITEM(texts, d);
        if (!PyUnicode_Check(text)) {
            PyErr_Format(PyExc_TypeError, "texts[%zd] is not a str", d);
            goto done;
        }
#if PY_VERSION_HEX < 0x030C0000
        if (PyUnicode_READY(text) < 0) goto done;
#endif
        const int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        const Py_ssize_t length = PyUnicode_GET_LENGTH(text);
        /* canonical text: word characters, one space after each word, every CJK character a word of its own */
        if (n_canon + 2 * (length + EXTRA) + 1 > canon_cap || n_hash + length + EXTRA + 1 > hash_cap) {
            PyErr_SetString(PyExc_ValueError, "sketch: canon/hashes buffers too small for the texts");
            goto done;
        }
        uint32_t *doc = canon_out + n_canon;
        if (reserve((void **)&word_end, &end_cap, length + EXTRA + 1, sizeof(Py_ssize_t)) < 0) goto done;
        Canonical c = {doc, 0, 0};
        if (kind == PyUnicode_1BYTE_KIND)
            canonical_1(&c, (const Py_UCS1 *)data, length, tab, &expand);
        else if (kind == PyUnicode_2BYTE_KIND)
            canonical_2(&c, (const Py_UCS2 *)data, length, tab, &expand);
        else
            canonical_4(&c, (const Py_UCS4 *)data, length, tab, &expand);
        const Py_ssize_t len = c.len;
        const int is_slow = c.slow;
        if (is_slow) {
            slow_out[d] = 1;
            words_out[d] = 0;
            off_out[d + 1] = n_hash;
            cb_out[d + 1] = n_canon;
            char *empty = (char *)sigs.view.buf + d * num_perm * width;
            if (width == 4)
                for (Py_ssize_t k = 0; k < num_perm; k++) ((uint32_t *)empty)[k] = UINT32_MAX;
            else
                minhash_legacy(NULL, 0, NULL, NULL, num_perm, (uint64_t *)empty);
            continue;
        }
        slow_out[d] = 0;
        /* prefix[i] = sum_{t < i} doc[t] * P^t mod 2^64 (a chain of adds: the products are independent); a span
         * [s, e) hashes to (prefix[e] - prefix[s]) * P^-s = sum_{s <= t < e} doc[t] * P^(t - s), as shingles.py */
        if (reserve((void **)&prefix, &prefix_cap, len + 1, sizeof(uint64_t)) < 0 ||
            grow_powers(&powers, &inverse, &powers_cap, &powers_len, len + 1) < 0)
            goto done;
        /* in the same pass, each word's end (its space): the next word starts one after */
        uint64_t running = 0; /* in a register: prefix[i] read back from memory would cost a store-load per step */
        Py_ssize_t n_w = 0;
        prefix[0] = 0;
        for (Py_ssize_t i = 0; i < len; i++) {
            running += doc[i] * powers[i];
            prefix[i + 1] = running;
            word_end[n_w] = i;
            n_w += doc[i] == SPACE;
        }
        words_out[d] = n_w;
        uint32_t *doc_hashes = hash_out + n_hash;
        Py_ssize_t n_sh = 0;
        if (n_w >= ngram) n_sh = n_w - ngram + 1;
        else if (n_w > 0) n_sh = 1;
        for (Py_ssize_t k = 0; k < n_sh; k++) {
            const Py_ssize_t last = k + ngram - 1 < n_w ? k + ngram - 1 : n_w - 1;
            const Py_ssize_t s = k ? word_end[k - 1] + 1 : 0, e = word_end[last];
            const uint64_t poly = (prefix[e] - prefix[s]) * inverse[s];
            doc_hashes[k] = (uint32_t)(fmix64(poly) >> 32);
        }
        char *sig = (char *)sigs.view.buf + d * num_perm * width;
        if (width == 4)
            minhash_affine32(doc_hashes, n_sh, (const uint32_t *)a.view.buf, (const uint32_t *)b.view.buf, num_perm,
                             (uint32_t *)sig, (uint32_t *)prefix); /* prefix (len + 1 >= n_sh words) is free now */
        else
            minhash_legacy(doc_hashes, n_sh, (const uint64_t *)a.view.buf, (const uint64_t *)b.view.buf, num_perm,
                           (uint64_t *)sig);
        n_hash += n_sh;
        n_canon += len;
        off_out[d + 1] = n_hash;
        cb_out[d + 1] = n_canon;
    }
    result = Py_BuildValue("nn", n_hash, n_canon);
done:
    free(prefix);
    free(powers);
    free(inverse);
    free(word_end);
    release(&table);
    release(&keys);
    release(&starts);
    release(&values);
    release(&a);
    release(&b);
    release(&sigs);
    release(&hashes);
    release(&offsets);
    release(&canon);
    release(&cb);
    release(&words);
    release(&slow);
    return result;
}


/* ---- verification: exact Jaccard of candidate pairs over their sets of shingle hashes ---- */

static void insertion_sort(uint32_t *v, Py_ssize_t n) {
    for (Py_ssize_t i = 1; i < n; i++) {
        const uint32_t x = v[i];
        Py_ssize_t j = i;
        for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
        v[j] = x;
    }
}

/* LSD radix sort, 4 passes of 8 bits through `tmp` (n items); the sorted values end up back in v */
static void radix_sort(uint32_t *v, Py_ssize_t n, uint32_t *tmp) {
    uint32_t *src = v, *dst = tmp;
    for (int shift = 0; shift < 32; shift += 8) {
        Py_ssize_t count[257] = {0};
        for (Py_ssize_t i = 0; i < n; i++) count[((src[i] >> shift) & 0xFF) + 1]++;
        for (int k = 0; k < 256; k++) count[k + 1] += count[k];
        for (Py_ssize_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 0xFF]++] = src[i];
        uint32_t *swap = src;
        src = dst;
        dst = swap;
    }
}

/* Sort `n` uint32 in place and drop repeats; returns the number of distinct values. `tmp` holds 2n + 2 items.
 * Shingle hashes are uniform, so one counting pass over their top bits (about one value per bucket) and an
 * insertion sort of each small bucket sort them; a crowded bucket (many repeats, or a skewed input) is radix
 * sorted, so no input costs more than a radix sort. */
static Py_ssize_t sort_unique(uint32_t *v, Py_ssize_t n, uint32_t *tmp) {
    if (n < 2) return n;
    if (n <= 48) {
        insertion_sort(v, n);
    } else {
        int bits = 0;
        while (((Py_ssize_t)2 << bits) <= n) bits++; /* 2^bits <= n < 2^(bits+1) */
        const Py_ssize_t buckets = (Py_ssize_t)1 << bits;
        const int shift = 32 - bits;
        uint32_t *out = tmp, *count = tmp + n;
        memset(count, 0, (buckets + 1) * sizeof(uint32_t));
        for (Py_ssize_t i = 0; i < n; i++) count[(v[i] >> shift) + 1]++;
        for (Py_ssize_t k = 0; k < buckets; k++) count[k + 1] += count[k];
        for (Py_ssize_t i = 0; i < n; i++) out[count[v[i] >> shift]++] = v[i];
        /* count[k] is now the end of bucket k (and the start of bucket k + 1) */
        Py_ssize_t begin = 0;
        for (Py_ssize_t k = 0; k < buckets; k++) {
            const Py_ssize_t size = (Py_ssize_t)count[k] - begin;
            if (size > 32) radix_sort(out + begin, size, v + begin); /* v is free scratch now */
            else if (size > 1) insertion_sort(out + begin, size);
            begin = count[k];
        }
        memcpy(v, out, n * sizeof(uint32_t));
    }
    Py_ssize_t m = 1;
    for (Py_ssize_t i = 1; i < n; i++) {
        v[m] = v[i];
        m += v[i] != v[m - 1];
    }
    return m;
}

static Py_ssize_t common_count(const uint32_t *a, Py_ssize_t na, const uint32_t *b, Py_ssize_t nb) {
    Py_ssize_t i = 0, j = 0, common = 0;
    while (i < na && j < nb) {
        const uint32_t x = a[i], y = b[j];
        common += x == y;
        i += x <= y;
        j += y <= x;
    }
    return common;
}

static Py_ssize_t find_root(int64_t *parent, Py_ssize_t x) {
    Py_ssize_t root = x;
    while (parent[root] != root) root = parent[root];
    while (parent[x] != root) {
        const Py_ssize_t next = parent[x];
        parent[x] = root;
        x = next;
    }
    return root;
}

PyDoc_STRVAR(verify_doc,
             "verify(left, right, shard, position, shingles, offsets, threshold, cache_bytes, jaccard, status)\n\n"
             "Check the pairs (left[i], right[i]) (node indices, in the order given) as MinhashVerify does: a pair\n"
             "whose nodes are already joined by accepted pairs is skipped (status 0), else its exact Jaccard is\n"
             "computed (jaccard[i]; status 1) and the pair is accepted at or above `threshold` (status 2). Node n is\n"
             "document position[n] of shard shard[n]: its shingle hashes are shingles[s][offsets[s][p]:offsets[s][p+1]]\n"
             "(lists of uint32 / int64 buffers per shard). Distinct sorted sets are cached up to cache_bytes.");

static PyObject *verify(PyObject *self, PyObject *args) {
    PyObject *o_left, *o_right, *o_shard, *o_pos, *shingle_list, *offset_list, *o_jac, *o_status;
    double threshold;
    Py_ssize_t cache_bytes;
    if (!PyArg_ParseTuple(args, "OOOOO!O!dnOO", &o_left, &o_right, &o_shard, &o_pos, &PyList_Type, &shingle_list,
                          &PyList_Type, &offset_list, &threshold, &cache_bytes, &o_jac, &o_status))
        return NULL;
    const Py_ssize_t n_shards = PyList_GET_SIZE(shingle_list);
    if (PyList_GET_SIZE(offset_list) != n_shards) {
        PyErr_SetString(PyExc_ValueError, "verify: one shingle buffer and one offset buffer per shard");
        return NULL;
    }
    Buffer left = {0}, right = {0}, shard = {0}, pos = {0}, jac = {0}, status = {0};
    Buffer *maps = calloc(n_shards + 1, sizeof(Buffer)), *offs = calloc(n_shards + 1, sizeof(Buffer));
    int64_t *parent = NULL, *set_len = NULL;
    uint32_t **sets = NULL, *tmp = NULL;
    uint8_t *borrowed = NULL;
    Py_ssize_t tmp_cap = 0, n_nodes = 0, cached = 0;
    PyObject *result = NULL;
    if (!maps || !offs) {
        PyErr_NoMemory();
        goto done;
    }
    if (get_buffer(o_left, &left, 8, 0, "left") < 0 || get_buffer(o_right, &right, 8, 0, "right") < 0 ||
        get_buffer(o_shard, &shard, 8, 0, "shard") < 0 || get_buffer(o_pos, &pos, 8, 0, "position") < 0 ||
        get_buffer(o_jac, &jac, 4, 1, "jaccard") < 0 || get_buffer(o_status, &status, 1, 1, "status") < 0)
        goto done;
    for (Py_ssize_t s = 0; s < n_shards; s++)
        if (get_buffer(PyList_GET_ITEM(shingle_list, s), &maps[s], 4, 0, "shingles") < 0 ||
            get_buffer(PyList_GET_ITEM(offset_list, s), &offs[s], 8, 0, "offsets") < 0)
            goto done;
    const Py_ssize_t n_pairs = left.view.len / 8;
    n_nodes = shard.view.len / 8;
    if (right.view.len != left.view.len || pos.view.len != shard.view.len || jac.view.len != n_pairs * 4 ||
        status.view.len != n_pairs) {
        PyErr_SetString(PyExc_ValueError, "verify: pair and node buffers do not match");
        goto done;
    }
    const int64_t *l = left.view.buf, *r = right.view.buf, *node_shard = shard.view.buf, *node_pos = pos.view.buf;
    float *jac_out = jac.view.buf;
    uint8_t *status_out = status.view.buf;
    parent = malloc((n_nodes + 1) * sizeof(int64_t));
    set_len = malloc((n_nodes + 1) * sizeof(int64_t));
    sets = calloc(n_nodes + 1, sizeof(uint32_t *));
    borrowed = calloc(n_nodes + 1, 1);
    if (!parent || !set_len || !sets || !borrowed) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t n = 0; n < n_nodes; n++) {
        parent[n] = n;
        const int64_t s = node_shard[n], p = node_pos[n];
        if (s < 0 || s >= n_shards || p < 0 || (p + 2) * 8 > offs[s].view.len) {
            PyErr_Format(PyExc_ValueError, "verify: node %zd (shard %lld, position %lld) out of range", n,
                         (long long)s, (long long)p);
            goto done;
        }
        const int64_t *o = offs[s].view.buf;
        if (o[p] < 0 || o[p] > o[p + 1] || o[p + 1] * 4 > maps[s].view.len) {
            PyErr_Format(PyExc_ValueError, "verify: shingle offsets of node %zd out of range", n);
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < n_pairs; i++) {
        if (l[i] < 0 || l[i] >= n_nodes || r[i] < 0 || r[i] >= n_nodes) {
            PyErr_Format(PyExc_ValueError, "verify: pair %zd names a node out of range", i);
            goto done;
        }
        const Py_ssize_t ra = find_root(parent, l[i]), rb = find_root(parent, r[i]);
        status_out[i] = 0;
        jac_out[i] = 0.0f;
        if (ra == rb) continue;
        if (cached > cache_bytes && (!sets[l[i]] || !sets[r[i]])) {
            /* the cache of sorted sets is full: start it again (as the numpy path does) */
            for (Py_ssize_t k = 0; k < n_nodes; k++) {
                if (!borrowed[k]) free(sets[k]);
                sets[k] = NULL;
                borrowed[k] = 0;
            }
            cached = 0;
        }
        const int64_t ends[2] = {l[i], r[i]};
        for (int side = 0; side < 2; side++) {
            const int64_t n = ends[side];
            if (sets[n]) continue;
            const int64_t *o = offs[node_shard[n]].view.buf;
            const Py_ssize_t p = node_pos[n], count = o[p + 1] - o[p];
            const uint32_t *stored = (const uint32_t *)maps[node_shard[n]].view.buf + o[p];
            Py_ssize_t k = 1;
            while (k < count && stored[k - 1] < stored[k]) k++;
            if (k >= count) { /* stored as a set already (the signature step sorts): read it in place */
                sets[n] = (uint32_t *)stored;
                set_len[n] = count;
                borrowed[n] = 1;
                continue;
            }
            uint32_t *set = malloc((count + 1) * sizeof(uint32_t));
            if (!set || reserve((void **)&tmp, &tmp_cap, 2 * count + 2, sizeof(uint32_t)) < 0) {
                free(set);
                if (!PyErr_Occurred()) PyErr_NoMemory();
                goto done;
            }
            memcpy(set, (const uint32_t *)maps[node_shard[n]].view.buf + o[p], count * sizeof(uint32_t));
            set_len[n] = sort_unique(set, count, tmp);
            sets[n] = set;
            cached += (count + 1) * sizeof(uint32_t);
        }
        const Py_ssize_t na = set_len[l[i]], nb = set_len[r[i]];
        double j;
        if (na == 0 || nb == 0) {
            j = na == nb ? 1.0 : 0.0;
        } else {
            const Py_ssize_t common = common_count(sets[l[i]], na, sets[r[i]], nb);
            j = (double)common / (double)(na + nb - common);
        }
        jac_out[i] = (float)j;
        status_out[i] = 1;
        if (j >= threshold) {
            parent[ra] = rb;
            status_out[i] = 2;
        }
    }
    result = Py_NewRef(Py_None);
done:
    if (sets && borrowed)
        for (Py_ssize_t k = 0; k < n_nodes; k++)
            if (!borrowed[k]) free(sets[k]);
    free(sets);
    free(borrowed);
    free(set_len);
    free(parent);
    free(tmp);
    for (Py_ssize_t s = 0; maps && offs && s < n_shards; s++) {
        release(&maps[s]);
        release(&offs[s]);
    }
    free(maps);
    free(offs);
    release(&left);
    release(&right);
    release(&shard);
    release(&pos);
    release(&jac);
    release(&status);
    return result;
}

PyDoc_STRVAR(sort_sets_doc,
             "sort_sets(hashes, offsets, out_offsets) -> int\n\n"
             "Sort each segment hashes[offsets[i]:offsets[i+1]] (uint32) and drop its repeats, packing the distinct\n"
             "values to the front of `hashes` in segment order; out_offsets (int64, segments + 1) gets the new\n"
             "bounds. Returns the number of values kept.");

static PyObject *sort_sets(PyObject *self, PyObject *args) {
    PyObject *o_hashes, *o_offsets, *o_out;
    if (!PyArg_ParseTuple(args, "OOO", &o_hashes, &o_offsets, &o_out)) return NULL;
    Buffer hashes = {0}, offsets = {0}, out = {0};
    uint32_t *tmp = NULL;
    Py_ssize_t tmp_cap = 0, kept = 0;
    PyObject *result = NULL;
    if (get_buffer(o_hashes, &hashes, 4, 1, "hashes") < 0 || get_buffer(o_offsets, &offsets, 8, 0, "offsets") < 0 ||
        get_buffer(o_out, &out, 8, 1, "out_offsets") < 0)
        goto done;
    const Py_ssize_t n = offsets.view.len / 8 - 1;
    const int64_t *off = offsets.view.buf;
    int64_t *new_off = out.view.buf;
    uint32_t *h = hashes.view.buf;
    if (n < 0 || out.view.len != offsets.view.len) {
        PyErr_SetString(PyExc_ValueError, "sort_sets: offsets and out_offsets must have the same length (>= 1)");
        goto done;
    }
    new_off[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (off[i] < 0 || off[i] > off[i + 1] || off[i + 1] * 4 > hashes.view.len || off[i] < kept) {
            PyErr_SetString(PyExc_ValueError, "sort_sets: offsets out of range");
            goto done;
        }
        const Py_ssize_t count = off[i + 1] - off[i];
        if (reserve((void **)&tmp, &tmp_cap, 2 * count + 2, sizeof(uint32_t)) < 0) goto done;
        memmove(h + kept, h + off[i], count * sizeof(uint32_t));
        kept += sort_unique(h + kept, count, tmp);
        new_off[i + 1] = kept;
    }
    result = PyLong_FromSsize_t(kept);
done:
    free(tmp);
    release(&hashes);
    release(&offsets);
    release(&out);
    return result;
}

PyDoc_STRVAR(estimate_doc,
             "estimate(shard_a, pos_a, shard_b, pos_b, signatures, num_perm, out)\n\n"
             "out[i] = fraction of equal MinHash values of signature rows (shard_a[i], pos_a[i]) and (shard_b[i],\n"
             "pos_b[i]); `signatures` lists one (rows x num_perm) uint32 or uint64 buffer per shard.");

static PyObject *estimate(PyObject *self, PyObject *args) {
    PyObject *o_sa, *o_pa, *o_sb, *o_pb, *sig_list, *o_out;
    Py_ssize_t num_perm;
    if (!PyArg_ParseTuple(args, "OOOOO!nO", &o_sa, &o_pa, &o_sb, &o_pb, &PyList_Type, &sig_list, &num_perm, &o_out))
        return NULL;
    const Py_ssize_t n_shards = PyList_GET_SIZE(sig_list);
    Buffer sa = {0}, pa = {0}, sb = {0}, pb = {0}, out = {0};
    Buffer *maps = calloc(n_shards + 1, sizeof(Buffer));
    PyObject *result = NULL;
    Py_ssize_t width = 0;
    if (!maps) {
        PyErr_NoMemory();
        goto done;
    }
    if (get_buffer(o_sa, &sa, 8, 0, "shard_a") < 0 || get_buffer(o_pa, &pa, 8, 0, "pos_a") < 0 ||
        get_buffer(o_sb, &sb, 8, 0, "shard_b") < 0 || get_buffer(o_pb, &pb, 8, 0, "pos_b") < 0 ||
        get_buffer(o_out, &out, 4, 1, "out") < 0)
        goto done;
    for (Py_ssize_t s = 0; s < n_shards; s++) {
        if (get_buffer(PyList_GET_ITEM(sig_list, s), &maps[s], -1, 0, "signatures") < 0) goto done;
        if (maps[s].view.len && width && maps[s].view.itemsize != width) {
            PyErr_SetString(PyExc_ValueError, "estimate: signature buffers of different widths");
            goto done;
        }
        if (maps[s].view.len) width = maps[s].view.itemsize;
    }
    const Py_ssize_t n = out.view.len / 4;
    if (num_perm < 1 || sa.view.len != n * 8 || pa.view.len != n * 8 || sb.view.len != n * 8 ||
        pb.view.len != n * 8 || (n && width != 4 && width != 8)) {
        PyErr_SetString(PyExc_ValueError, "estimate: buffers do not match");
        goto done;
    }
    const int64_t *s_a = sa.view.buf, *p_a = pa.view.buf, *s_b = sb.view.buf, *p_b = pb.view.buf;
    float *o = out.view.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        const int64_t shards[2] = {s_a[i], s_b[i]}, rows[2] = {p_a[i], p_b[i]};
        const char *row[2];
        for (int side = 0; side < 2; side++) {
            if (shards[side] < 0 || shards[side] >= n_shards || rows[side] < 0 ||
                (rows[side] + 1) * num_perm * width > maps[shards[side]].view.len) {
                PyErr_Format(PyExc_ValueError, "estimate: pair %zd names a signature out of range", i);
                goto done;
            }
            row[side] = (const char *)maps[shards[side]].view.buf + rows[side] * num_perm * width;
        }
        Py_ssize_t equal = 0;
        if (width == 4) {
            const uint32_t *x = (const uint32_t *)row[0], *y = (const uint32_t *)row[1];
            for (Py_ssize_t k = 0; k < num_perm; k++) equal += x[k] == y[k];
        } else {
            const uint64_t *x = (const uint64_t *)row[0], *y = (const uint64_t *)row[1];
            for (Py_ssize_t k = 0; k < num_perm; k++) equal += x[k] == y[k];
        }
        o[i] = (float)((double)equal / (double)num_perm); /* = numpy's float64 mean, cast to float32 */
    }
    result = Py_NewRef(Py_None);
done:
    for (Py_ssize_t s = 0; maps && s < n_shards; s++) release(&maps[s]);
    free(maps);
    release(&sa);
    release(&pa);
    release(&sb);
    release(&pb);
    release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"sketch", sketch, METH_VARARGS, sketch_doc},
    {"verify", verify, METH_VARARGS, verify_doc},
    {"sort_sets", sort_sets, METH_VARARGS, sort_sets_doc},
    {"estimate", estimate, METH_VARARGS, estimate_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernel", "Compiled shingle hashing + MinHash for deepmath.dedup (see _kernel.c).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__kernel(void) { return PyModule_Create(&module); }
