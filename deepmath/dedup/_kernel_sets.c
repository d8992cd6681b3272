/* deepmath.dedup._kernel, second source: each page's sorted set of shingle hashes, the exact verification of
 * candidate pairs (MinhashVerify) and MinHash estimates, over arrays read in place (see _kernel.h, _kernel.c). */
#include "_kernel.h"

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

#if defined(__GNUC__) && defined(__x86_64__) && defined(__has_include)
#if __has_include(<immintrin.h>)
#include <immintrin.h>
#define HAVE_AVX512_SORT 1
/* ---- AVX-512 merge sort (for sort_unique): sorting networks on 16-value registers, then bottom-up merges ----
 * Each register of 16 values is sorted by a bitonic network (10 compare-exchange stages); sorted runs are then
 * merged pairwise, 16 values at a time: the next block comes from the run whose next value is smaller, and a
 * bitonic merge of two sorted registers gives the 16 smallest (stored) and the 16 largest (carried on); the repeats
 * are then dropped 16 at a time. On the bench's 11.5M real shingle hashes (pages of a few hundred): 3.2 ns a value,
 * against 5.3 for the scalar bucket sort below (7.4 before its repeat-dropping loop stopped reading back its last
 * store); sorting had been a quarter of the kernel's time in the signature pass. */
#define SORT512 __attribute__((target("avx512f")))

/* lanes i and i^j compared: the lanes set in `take_max` keep the larger value, the others the smaller */
SORT512 static inline __m512i exchange(__m512i x, int j, __mmask16 take_max) {
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i y = _mm512_permutexvar_epi32(_mm512_xor_si512(lanes, _mm512_set1_epi32(j)), x);
    return _mm512_mask_blend_epi32(take_max, _mm512_min_epu32(x, y), _mm512_max_epu32(x, y));
}

/* one register sorted ascending: the bitonic network for 16 (stage k, distance j; the masks say which lane of
 * each compared pair takes the larger value: the higher lane in blocks of k sorting up, the lower one otherwise) */
SORT512 static inline __m512i sort16(__m512i x) {
    x = exchange(x, 1, 0x6666);
    x = exchange(x, 2, 0x3C3C);
    x = exchange(x, 1, 0x5A5A);
    x = exchange(x, 4, 0x0FF0);
    x = exchange(x, 2, 0x33CC);
    x = exchange(x, 1, 0x55AA);
    x = exchange(x, 8, 0xFF00);
    x = exchange(x, 4, 0xF0F0);
    x = exchange(x, 2, 0xCCCC);
    return exchange(x, 1, 0xAAAA);
}

/* a bitonic register sorted ascending (the last four stages of the network) */
SORT512 static inline __m512i bitonic16(__m512i x) {
    x = exchange(x, 8, 0xFF00);
    x = exchange(x, 4, 0xF0F0);
    x = exchange(x, 2, 0xCCCC);
    return exchange(x, 1, 0xAAAA);
}

/* two sorted registers -> the 16 smallest values in *lo and the 16 largest in *hi, each sorted */
SORT512 static inline void merge16(__m512i *lo, __m512i *hi) {
    const __m512i reverse = _mm512_setr_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i b = _mm512_permutexvar_epi32(reverse, *hi);
    const __m512i small = _mm512_min_epu32(*lo, b), large = _mm512_max_epu32(*lo, b);
    *lo = bitonic16(small);
    *hi = bitonic16(large);
}

/* sorted runs a[0:na] and b[0:nb] (multiples of 16, at least 16 each) merged into out */
SORT512 static void merge_runs(const uint32_t *a, Py_ssize_t na, const uint32_t *b, Py_ssize_t nb, uint32_t *out) {
    __m512i lo = _mm512_loadu_si512(a), hi = _mm512_loadu_si512(b);
    Py_ssize_t ia = 16, ib = 16;
    for (;;) {
        merge16(&lo, &hi);
        _mm512_storeu_si512(out, lo);
        out += 16;
        if (ia < na && (ib >= nb || a[ia] <= b[ib])) {
            lo = _mm512_loadu_si512(a + ia);
            ia += 16;
        } else if (ib < nb) {
            lo = _mm512_loadu_si512(b + ib);
            ib += 16;
        } else {
            break;
        }
    }
    _mm512_storeu_si512(out, hi);
}

/* x[0:n] (n a multiple of 16) sorted, with y (n items) as the other buffer: returns the one holding the result */
SORT512 static uint32_t *sort512(uint32_t *x, Py_ssize_t n, uint32_t *y) {
    for (Py_ssize_t i = 0; i < n; i += 16) _mm512_storeu_si512(x + i, sort16(_mm512_loadu_si512(x + i)));
    uint32_t *src = x, *dst = y;
    for (Py_ssize_t width = 16; width < n; width <<= 1) {
        for (Py_ssize_t start = 0; start < n; start += 2 * width) {
            const Py_ssize_t mid = start + width < n ? start + width : n;
            const Py_ssize_t end = start + 2 * width < n ? start + 2 * width : n;
            if (mid >= end) memcpy(dst + start, src + start, (size_t)(end - start) * sizeof(uint32_t));
            else merge_runs(src + start, mid - start, src + mid, end - mid, dst + start);
        }
        uint32_t *swap = src;
        src = dst;
        dst = swap;
    }
    return src;
}

/* the distinct values of sorted x[0:n] (n >= 1) into v (not overlapping x), 16 at a time: a value is kept where it
 * differs from the one before it; returns how many */
SORT512 static Py_ssize_t unique512(const uint32_t *x, Py_ssize_t n, uint32_t *v) {
    Py_ssize_t m = 1, i = 1;
    v[0] = x[0];
    for (; i + 16 <= n; i += 16) {
        const __m512i current = _mm512_loadu_si512(x + i), previous = _mm512_loadu_si512(x + i - 1);
        const __mmask16 keep = _mm512_cmpneq_epu32_mask(current, previous);
        const int kept = __builtin_popcount((unsigned)keep);
        _mm512_mask_storeu_epi32(v + m, (__mmask16)((1u << kept) - 1), _mm512_maskz_compress_epi32(keep, current));
        m += kept;
    }
    for (uint32_t last = x[i - 1]; i < n; i++) {
        v[m] = x[i];
        m += x[i] != last;
        last = x[i];
    }
    return m;
}
#endif
#endif

static int use_avx512 = 0; /* set once by kernel_sets_init, at import */

/* Sort `n` uint32 in place and drop repeats; returns the number of distinct values. `tmp` holds 3n + 2 items.
 * With AVX-512 (use_avx512), the merge sort above. Otherwise: shingle hashes are uniform, so one counting pass over
 * their top bits (about one value per bucket) puts every value within a few places of where it belongs, and one
 * insertion pass over the whole array finishes the sort (each value moves at most its bucket's size back) while
 * the repeats are dropped on the way. A crowded bucket (many repeats, or a skewed input) is radix sorted first, so
 * no input costs more than a radix sort. */
Py_ssize_t sort_unique(uint32_t *v, Py_ssize_t n, uint32_t *tmp) {
    if (n < 2) return n;
    uint32_t *out = v;
    if (n <= 48) {
        insertion_sort(v, n);
#ifdef HAVE_AVX512_SORT
    } else if (use_avx512) {
        /* padded to whole registers with the largest value: the first n sorted values are the input's */
        const Py_ssize_t padded = (n + 15) & ~(Py_ssize_t)15; /* 2 * padded <= 3n + 2 for n > 48 */
        memcpy(tmp, v, n * sizeof(uint32_t));
        for (Py_ssize_t i = n; i < padded; i++) tmp[i] = UINT32_MAX;
        return unique512(sort512(tmp, padded, tmp + padded), n, v);
#endif
    } else {
        int bits = 0;
        while (((Py_ssize_t)2 << bits) <= n) bits++; /* 2^bits <= n < 2^(bits+1) */
        bits++;                                      /* about two buckets a value: most hold none or one */
        const Py_ssize_t buckets = (Py_ssize_t)1 << bits;
        const int shift = 32 - bits;
        uint32_t *count = tmp + n;
        out = tmp;
        memset(count, 0, (buckets + 1) * sizeof(uint32_t));
        for (Py_ssize_t i = 0; i < n; i++) count[(v[i] >> shift) + 1]++;
        uint32_t biggest = 0;
        for (Py_ssize_t k = 0; k < buckets; k++) {
            biggest = count[k + 1] > biggest ? count[k + 1] : biggest;
            count[k + 1] += count[k];
        }
        for (Py_ssize_t i = 0; i < n; i++) out[count[v[i] >> shift]++] = v[i];
        /* count[k] is now the end of bucket k (and the start of bucket k + 1) */
        if (biggest > 32) {
            Py_ssize_t begin = 0;
            for (Py_ssize_t k = 0; k < buckets; k++) {
                const Py_ssize_t size = (Py_ssize_t)count[k] - begin;
                if (size > 32) radix_sort(out + begin, size, v + begin); /* v is free scratch now */
                begin = count[k];
            }
        }
        insertion_sort(out, n); /* every value is at most 32 places from its place: linear */
    }
    /* the distinct values, in order, into v (the last one kept in a register: reading v[m - 1] back made every
     * step wait for the store before it) */
    Py_ssize_t m = 1;
    uint32_t last = out[0];
    v[0] = last;
    for (Py_ssize_t i = 1; i < n; i++) {
        const uint32_t x = out[i];
        v[m] = x;
        m += x != last;
        last = x;
    }
    return m;
}

/* |a ∩ b| of two sorted sets, from a[i:] and b[j:] on: a branch-free merge */
static Py_ssize_t merge_count(const uint32_t *a, Py_ssize_t na, const uint32_t *b, Py_ssize_t nb, Py_ssize_t i,
                              Py_ssize_t j) {
    Py_ssize_t common = 0;
    while (i < na && j < nb) {
        const uint32_t x = a[i], y = b[j];
        common += x == y;
        i += x <= y;
        j += y <= x;
    }
    return common;
}

#if defined(__GNUC__) && defined(__x86_64__) && defined(__has_include)
#if __has_include(<immintrin.h>)
#include <immintrin.h>
#define HAVE_AVX2_COUNT 1
/* The same count 8 values at a time (AVX2): each block of a is compared with the block of b in all 8 rotations,
 * and the block with the smaller last value moves on (both on a tie); a value meets every block of the other set
 * that overlaps its range, and matches at most one value there (sets have no repeats), so nothing is counted twice.
 * ~3x the merge on sets of a few hundred hashes; the tails go through the merge. */
__attribute__((target("avx2,popcnt"))) static Py_ssize_t avx2_count(const uint32_t *a, Py_ssize_t na,
                                                                     const uint32_t *b, Py_ssize_t nb) {
    Py_ssize_t i = 0, j = 0, common = 0;
    const __m256i rotate = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
    while (i + 8 <= na && j + 8 <= nb) {
        const __m256i va = _mm256_loadu_si256((const __m256i *)(a + i));
        __m256i vb = _mm256_loadu_si256((const __m256i *)(b + j));
        __m256i hit = _mm256_cmpeq_epi32(va, vb);
        for (int r = 1; r < 8; r++) {
            vb = _mm256_permutevar8x32_epi32(vb, rotate);
            hit = _mm256_or_si256(hit, _mm256_cmpeq_epi32(va, vb));
        }
        common += __builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(hit)));
        const uint32_t last_a = a[i + 7], last_b = b[j + 7];
        i += last_a <= last_b ? 8 : 0;
        j += last_b <= last_a ? 8 : 0;
    }
    return common + merge_count(a, na, b, nb, i, j);
}
#endif
#endif

static int use_avx2 = 0; /* set once by kernel_sets_init, at import: read by threads verifying at once */

void kernel_sets_init(void) {
#if defined(HAVE_AVX2_COUNT) || defined(HAVE_AVX512_SORT)
    __builtin_cpu_init(); /* idempotent; needed before the checks outside a constructor's guarantee */
#endif
#ifdef HAVE_AVX2_COUNT
    use_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
#endif
#ifdef HAVE_AVX512_SORT
    use_avx512 = __builtin_cpu_supports("avx512f");
#endif
}

static Py_ssize_t common_count(const uint32_t *a, Py_ssize_t na, const uint32_t *b, Py_ssize_t nb) {
#ifdef HAVE_AVX2_COUNT
    if (use_avx2) return avx2_count(a, na, b, nb);
#endif
    return merge_count(a, na, b, nb, 0, 0);
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

const char kernel_verify_doc[] =
             "verify(left, right, shard, position, shingles, offsets, threshold, cache_bytes, jaccard, status)\n\n"
             "Check the pairs (left[i], right[i]) (node indices, in the order given) as MinhashVerify does: a pair\n"
             "whose nodes are already joined by accepted pairs is skipped (status 0), else its exact Jaccard is\n"
             "computed (jaccard[i]; status 1) and the pair is accepted at or above `threshold` (status 2). Node n is\n"
             "document position[n] of shard shard[n]: its shingle hashes are shingles[s][offsets[s][p]:offsets[s][p+1]]\n"
             "(lists of uint32 / int64 buffers per shard). Distinct sorted sets are cached up to cache_bytes.";

PyObject *kernel_verify(PyObject *self, PyObject *args) {
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
    }
    int nomem = 0;
    /* no Python object is touched from here on: other threads may verify other components meanwhile */
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n_pairs && !nomem; i++) {
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
            if (!set || grow((void **)&tmp, &tmp_cap, 3 * count + 2, sizeof(uint32_t)) < 0) {
                free(set);
                nomem = 1;
                break;
            }
            memcpy(set, stored, count * sizeof(uint32_t));
            set_len[n] = sort_unique(set, count, tmp);
            sets[n] = set;
            cached += (count + 1) * sizeof(uint32_t);
        }
        if (nomem) break;
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
    Py_END_ALLOW_THREADS
    if (nomem) {
        PyErr_NoMemory();
        goto done;
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

const char kernel_sort_sets_doc[] =
             "sort_sets(hashes, offsets, out_offsets) -> int\n\n"
             "Sort each segment hashes[offsets[i]:offsets[i+1]] (uint32) and drop its repeats, packing the distinct\n"
             "values to the front of `hashes` in segment order; out_offsets (int64, segments + 1) gets the new\n"
             "bounds. Returns the number of values kept.";

PyObject *kernel_sort_sets(PyObject *self, PyObject *args) {
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
        if (reserve((void **)&tmp, &tmp_cap, 3 * count + 2, sizeof(uint32_t)) < 0) goto done;
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

const char kernel_estimate_doc[] =
             "estimate(shard_a, pos_a, shard_b, pos_b, signatures, num_perm, out)\n\n"
             "out[i] = fraction of equal MinHash values of signature rows (shard_a[i], pos_a[i]) and (shard_b[i],\n"
             "pos_b[i]); `signatures` lists one (rows x num_perm) uint32 or uint64 buffer per shard.";

PyObject *kernel_estimate(PyObject *self, PyObject *args) {
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
        for (int side = 0; side < 2; side++) {
            if (shards[side] < 0 || shards[side] >= n_shards || rows[side] < 0 ||
                (rows[side] + 1) * num_perm * width > maps[shards[side]].view.len) {
                PyErr_Format(PyExc_ValueError, "estimate: pair %zd names a signature out of range", i);
                goto done;
            }
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *x_row = (const char *)maps[s_a[i]].view.buf + p_a[i] * num_perm * width;
        const char *y_row = (const char *)maps[s_b[i]].view.buf + p_b[i] * num_perm * width;
        Py_ssize_t equal = 0;
        if (width == 4) {
            const uint32_t *x = (const uint32_t *)x_row, *y = (const uint32_t *)y_row;
            for (Py_ssize_t k = 0; k < num_perm; k++) equal += x[k] == y[k];
        } else {
            const uint64_t *x = (const uint64_t *)x_row, *y = (const uint64_t *)y_row;
            for (Py_ssize_t k = 0; k < num_perm; k++) equal += x[k] == y[k];
        }
        o[i] = (float)((double)equal / (double)num_perm); /* = numpy's float64 mean, cast to float32 */
    }
    Py_END_ALLOW_THREADS
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

/* ---- LSH buckets: the candidate pairs of one band (buckets.bucket_pairs, compiled) ---- */

typedef struct {
    uint64_t key;
    int64_t id;
} KeyId;

/* stable LSD radix sort of v[0:n] by key, 11 bits a pass (6 passes cover 64 bits); a pass whose digit is the same
 * for every item is skipped. The result is in v or in tmp: returned. */
static KeyId *radix_by_key(KeyId *v, Py_ssize_t n, KeyId *tmp) {
    KeyId *src = v, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 11) {
        Py_ssize_t count[2049] = {0};
        for (Py_ssize_t i = 0; i < n; i++) count[((src[i].key >> shift) & 0x7FF) + 1]++;
        int one_digit = 0;
        for (int k = 0; k < 2048; k++) {
            if (count[k + 1] == n) one_digit = 1;
            count[k + 1] += count[k];
        }
        if (one_digit) continue;
        for (Py_ssize_t i = 0; i < n; i++) dst[count[(src[i].key >> shift) & 0x7FF]++] = src[i];
        KeyId *swap = src;
        src = dst;
        dst = swap;
    }
    return src;
}

static int compare_ids(const void *a, const void *b) {
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int emit(int64_t **out, Py_ssize_t *cap, Py_ssize_t *len, int64_t a, int64_t b) {
    if (grow((void **)out, cap, *len + 2, sizeof(int64_t)) < 0) return -1; /* runs without the GIL */
    (*out)[(*len)++] = a < b ? a : b;
    (*out)[(*len)++] = a < b ? b : a;
    return 0;
}

const char kernel_bucket_pairs_doc[] =
    "bucket_pairs(keys, ids, all_pairs_up_to) -> bytes\n\n"
    "The pairs of `ids` (int64, distinct) whose `keys` (uint64) are equal, as (smaller, larger) int64 pairs packed\n"
    "in bytes: every pair of a bucket of at most all_pairs_up_to documents, else the bucket's ids in order as a\n"
    "star (the first with each) and a chain (each with the one before). Pairs may repeat; not sorted.";

PyObject *kernel_bucket_pairs(PyObject *self, PyObject *args) {
    PyObject *o_keys, *o_ids;
    Py_ssize_t up_to;
    if (!PyArg_ParseTuple(args, "OOn", &o_keys, &o_ids, &up_to)) return NULL;
    Buffer keys = {0}, ids = {0};
    KeyId *items = NULL, *tmp = NULL;
    int64_t *out = NULL, *run = NULL;
    Py_ssize_t out_cap = 0, out_len = 0, run_cap = 0;
    PyObject *result = NULL;
    if (get_buffer(o_keys, &keys, 8, 0, "keys") < 0 || get_buffer(o_ids, &ids, 8, 0, "ids") < 0) goto done;
    const Py_ssize_t n = keys.view.len / 8;
    if (ids.view.len != keys.view.len) {
        PyErr_SetString(PyExc_ValueError, "bucket_pairs: one id per key");
        goto done;
    }
    items = malloc((n + 1) * sizeof(KeyId));
    tmp = malloc((n + 1) * sizeof(KeyId));
    if (!items || !tmp) {
        PyErr_NoMemory();
        goto done;
    }
    const uint64_t *k = keys.view.buf;
    const int64_t *d = ids.view.buf;
    int nomem = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        items[i].key = k[i];
        items[i].id = d[i];
    }
    const KeyId *sorted = radix_by_key(items, n, tmp);
    for (Py_ssize_t start = 0, end; start < n && !nomem; start = end) {
        end = start + 1;
        while (end < n && sorted[end].key == sorted[start].key) end++;
        const Py_ssize_t size = end - start;
        if (size < 2) continue;
        if (size <= up_to) {
            for (Py_ssize_t a = start; a < end && !nomem; a++)
                for (Py_ssize_t b = a + 1; b < end && !nomem; b++)
                    nomem = emit(&out, &out_cap, &out_len, sorted[a].id, sorted[b].id) < 0;
            continue;
        }
        if (grow((void **)&run, &run_cap, size, sizeof(int64_t)) < 0) {
            nomem = 1;
            break;
        }
        for (Py_ssize_t a = 0; a < size; a++) run[a] = sorted[start + a].id;
        qsort(run, (size_t)size, sizeof(int64_t), compare_ids);
        for (Py_ssize_t a = 1; a < size && !nomem; a++)
            nomem = emit(&out, &out_cap, &out_len, run[0], run[a]) < 0 ||
                    (a > 1 && emit(&out, &out_cap, &out_len, run[a - 1], run[a]) < 0);
    }
    Py_END_ALLOW_THREADS
    if (nomem) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyBytes_FromStringAndSize((const char *)out, out_len * (Py_ssize_t)sizeof(int64_t));
done:
    free(items);
    free(tmp);
    free(out);
    free(run);
    release(&keys);
    release(&ids);
    return result;
}

/* ---- connected components of the candidate graph: how verification is split across threads ---- */

const char kernel_components_doc[] =
    "components(left, right, labels)\n\n"
    "Fill labels (int64, one per node) with the smallest node of each node's connected component in the graph of\n"
    "edges (left[i], right[i]) (int64 node indices in [0, len(labels))).";

PyObject *kernel_components(PyObject *self, PyObject *args) {
    PyObject *o_left, *o_right, *o_labels;
    if (!PyArg_ParseTuple(args, "OOO", &o_left, &o_right, &o_labels)) return NULL;
    Buffer left = {0}, right = {0}, labels = {0};
    PyObject *result = NULL;
    if (get_buffer(o_left, &left, 8, 0, "left") < 0 || get_buffer(o_right, &right, 8, 0, "right") < 0 ||
        get_buffer(o_labels, &labels, 8, 1, "labels") < 0)
        goto done;
    if (left.view.len != right.view.len) {
        PyErr_SetString(PyExc_ValueError, "components: one right end per left end");
        goto done;
    }
    const Py_ssize_t n_edges = left.view.len / 8, n_nodes = labels.view.len / 8;
    const int64_t *l = left.view.buf, *r = right.view.buf;
    int64_t *parent = labels.view.buf;
    for (Py_ssize_t i = 0; i < n_edges; i++) {
        if (l[i] < 0 || l[i] >= n_nodes || r[i] < 0 || r[i] >= n_nodes) {
            PyErr_Format(PyExc_ValueError, "components: edge %zd names a node out of range", i);
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t n = 0; n < n_nodes; n++) parent[n] = n;
    /* a root is always its component's smallest node (the larger root is linked under the smaller), so every
     * link points to a smaller node and one pass in node order resolves them all */
    for (Py_ssize_t i = 0; i < n_edges; i++) {
        int64_t a = l[i], b = r[i];
        while (parent[a] != a) a = parent[a] = parent[parent[a]];
        while (parent[b] != b) b = parent[b] = parent[parent[b]];
        if (a < b) parent[b] = a;
        else if (b < a) parent[a] = b;
    }
    for (Py_ssize_t n = 0; n < n_nodes; n++) parent[n] = parent[parent[n]];
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release(&left);
    release(&right);
    release(&labels);
    return result;
}

const char kernel_simd_sort_doc[] =
    "simd_sort(enabled) -> bool\n\n"
    "Whether sets are sorted with AVX-512 where the CPU has it (the default), returning the previous setting; the\n"
    "tests compare both paths. Not for use while other threads sort.";

PyObject *kernel_simd_sort(PyObject *self, PyObject *args) {
    int enabled;
    if (!PyArg_ParseTuple(args, "p", &enabled)) return NULL;
    const int previous = use_avx512;
#ifdef HAVE_AVX512_SORT
    use_avx512 = enabled && __builtin_cpu_supports("avx512f");
#endif
    return PyBool_FromLong(previous);
}
