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
#include "_kernel.h"

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

/* the per-character loops are kept out of `sketch`: inlined there, their pointers were spilled to the stack */
#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#define __builtin_expect(x, y) (x)
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
    static NOINLINE void NAME(Canonical *c, const CHAR *restrict text, Py_ssize_t length, const uint32_t *restrict tab, \
                     const Expansions *x) {                                                                    \
        uint32_t *restrict out = c->out;                                                                       \
        Py_ssize_t len = 0;                                                                                    \
        int in_word = 0, prev_cjk = 0, slow = 0;                                                               \
        Py_ssize_t extra = 0;                                                                                  \
        for (Py_ssize_t i = 0; i < length; i++) {                                                              \
            const uint32_t entry = tab[text[i]];                                                               \
            if (__builtin_expect(!((entry & (SLOW_BIT | CJK_BIT)) | prev_cjk), 1)) {                           \
                /* STEP for the common case (no CJK on either side, no expansion): a non-word entry is          \
                 * exactly SPACE, so one store of the entry and one add to the length do it */                  \
                const int word = entry != SPACE;                                                               \
                out[len] = entry;                                                                              \
                len += word | in_word;                                                                         \
                in_word = word;                                                                                \
                continue;                                                                                      \
            }                                                                                                  \
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

/* prefix[i] = sum_{t < i} doc[t] * P^t mod 2^64 (a chain of adds: the products are independent), and each word's end
 * (its space) in word_end; returns the number of words. A function of its own (not inlined into `sketch`), so that
 * its few pointers stay in registers: inlined, the compiler spilled them and reloaded two per character. */
static NOINLINE Py_ssize_t prefix_pass(const uint32_t *restrict doc, Py_ssize_t len, const uint64_t *restrict powers,
                                       uint64_t *restrict prefix, Py_ssize_t *restrict word_end) {
    uint64_t running = 0; /* in a register: prefix[i] read back from memory would cost a store-load per step */
    Py_ssize_t n_w = 0;
    prefix[0] = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        running += doc[i] * powers[i];
        prefix[i + 1] = running;
        word_end[n_w] = i;
        n_w += doc[i] == SPACE;
    }
    return n_w;
}

/* The hash of each of the n_sh shingles (ngram words from word k on, fewer when the document is shorter): the
 * span [s, e) hashes to (prefix[e] - prefix[s]) * P^-s = sum_{s <= t < e} doc[t] * P^(t - s), as shingles.py, then
 * fmix64's top 32 bits. */
static NOINLINE void shingle_hashes(const uint64_t *restrict prefix, const uint64_t *restrict inverse,
                                    const Py_ssize_t *restrict word_end, Py_ssize_t n_w, Py_ssize_t ngram,
                                    Py_ssize_t n_sh, uint32_t *restrict out) {
    for (Py_ssize_t k = 0; k < n_sh; k++) {
        const Py_ssize_t last = k + ngram - 1 < n_w ? k + ngram - 1 : n_w - 1;
        const Py_ssize_t s = k ? word_end[k - 1] + 1 : 0, e = word_end[last];
        out[k] = (uint32_t)(fmix64((prefix[e] - prefix[s]) * inverse[s]) >> 32);
    }
}

PyDoc_STRVAR(sketch_doc,
             "sketch(texts, table, keys, starts, values, ngram, a, b, sigs, hashes, offsets, canon, canon_bounds,\n"
             "       n_words, slow, as_sets=False)\n\n"
             "Normalise, shingle, hash and MinHash every text of the list `texts` (see _kernel.c); fills the output\n"
             "buffers: sigs (docs x num_perm, the dtype of a/b), hashes (uint32, capacity >= characters + 64 x docs),\n"
             "offsets (int64, docs + 1), canon (uint32, capacity >= 2 x that), canon_bounds (int64,\n"
             "docs + 1), n_words (int64, docs), slow (uint8, docs). With as_sets, each document's hashes are its sorted\n"
             "set (repeats dropped). Returns (shingles written, canonical length).");

static PyObject *sketch(PyObject *self, PyObject *args) {
    PyObject *texts, *o_table, *o_keys, *o_starts, *o_values, *o_a, *o_b, *o_sigs, *o_hashes, *o_offsets, *o_canon, *o_cb, *o_words, *o_slow;
    Py_ssize_t ngram;
    int as_sets = 0;
    if (!PyArg_ParseTuple(args, "O!OOOOnOOOOOOOOO|p", &PyList_Type, &texts, &o_table, &o_keys, &o_starts, &o_values,
                          &ngram, &o_a, &o_b, &o_sigs,
                          &o_hashes, &o_offsets, &o_canon, &o_cb, &o_words, &o_slow, &as_sets))
        return NULL;
    if (ngram < 1) return PyErr_Format(PyExc_ValueError, "ngram must be at least 1, got %zd", ngram);
    Buffer table = {0}, keys = {0}, starts = {0}, values = {0}, a = {0}, b = {0}, sigs = {0}, hashes = {0}, offsets = {0}, canon = {0}, cb = {0},
           words = {0}, slow = {0};
    PyObject *result = NULL;
    uint64_t *prefix = NULL, *powers = NULL, *inverse = NULL;
    Py_ssize_t *word_end = NULL;
    uint32_t *sort_tmp = NULL;
    Py_ssize_t prefix_cap = 0, powers_cap = 0, powers_len = 0, end_cap = 0, sort_cap = 0;
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
        const Py_ssize_t n_w = prefix_pass(doc, len, powers, prefix, word_end);
        words_out[d] = n_w;
        uint32_t *doc_hashes = hash_out + n_hash;
        Py_ssize_t n_sh = 0;
        if (n_w >= ngram) n_sh = n_w - ngram + 1;
        else if (n_w > 0) n_sh = 1;
        shingle_hashes(prefix, inverse, word_end, n_w, ngram, n_sh, doc_hashes);
        if (as_sets) { /* the document's set, sorted, while its hashes are in cache; its MinHash is the same */
            if (reserve((void **)&sort_tmp, &sort_cap, 3 * n_sh + 2, sizeof(uint32_t)) < 0) goto done;
            n_sh = sort_unique(doc_hashes, n_sh, sort_tmp);
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
    free(sort_tmp);
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


static PyMethodDef methods[] = {
    {"sketch", sketch, METH_VARARGS, sketch_doc},
    {"verify", kernel_verify, METH_VARARGS, kernel_verify_doc},
    {"sort_sets", kernel_sort_sets, METH_VARARGS, kernel_sort_sets_doc},
    {"estimate", kernel_estimate, METH_VARARGS, kernel_estimate_doc},
    {"bucket_pairs", kernel_bucket_pairs, METH_VARARGS, kernel_bucket_pairs_doc},
    {"components", kernel_components, METH_VARARGS, kernel_components_doc},
    {"simd_sort", kernel_simd_sort, METH_VARARGS, kernel_simd_sort_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernel", "Compiled shingle hashing + MinHash for deepmath.dedup (see _kernel.c).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__kernel(void) {
    kernel_sets_init();
    return PyModule_Create(&module);
}
