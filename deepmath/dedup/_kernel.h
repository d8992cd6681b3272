/* Shared by the two sources of deepmath.dedup._kernel: buffers through the buffer protocol (no numpy C API) and
 * growable scratch arrays. _kernel.c: normalise -> shingle hash -> MinHash; _kernel_sets.c: shingle sets,
 * verification and MinHash estimates. */
#ifndef DEEPMATH_DEDUP_KERNEL_H
#define DEEPMATH_DEDUP_KERNEL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    Py_buffer view;
    int held;
} Buffer;

static inline int get_buffer(PyObject *obj, Buffer *buf, Py_ssize_t itemsize, int writable, const char *name) {
    if (PyObject_GetBuffer(obj, &buf->view, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0) return -1;
    buf->held = 1;
    if (itemsize > 0 && buf->view.itemsize != itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: expected items of %zd bytes, got %zd", name, itemsize,
                     buf->view.itemsize);
        return -1;
    }
    return 0;
}

static inline void release(Buffer *buf) {
    if (buf->held) PyBuffer_Release(&buf->view);
    buf->held = 0;
}

/* Grow a scratch array to hold at least `need` items (keeps its contents); -1 when out of memory, without setting
 * a Python error (for loops that run without the GIL). */
static inline int grow(void **ptr, Py_ssize_t *cap, Py_ssize_t need, size_t itemsize) {
    if (need <= *cap) return 0;
    Py_ssize_t size = *cap ? *cap : 1024;
    while (size < need) size *= 2;
    void *grown = realloc(*ptr, (size_t)size * itemsize);
    if (!grown) return -1;
    *ptr = grown;
    *cap = size;
    return 0;
}

/* grow(), raising MemoryError when it fails (the GIL held). */
static inline int reserve(void **ptr, Py_ssize_t *cap, Py_ssize_t need, size_t itemsize) {
    if (grow(ptr, cap, need, itemsize) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* _kernel_sets.c: sort v[0:n] in place and drop repeats (tmp holds 3n + 2 items); returns the distinct count */
Py_ssize_t sort_unique(uint32_t *v, Py_ssize_t n, uint32_t *tmp);

void kernel_sets_init(void);
PyObject *kernel_verify(PyObject *self, PyObject *args);
PyObject *kernel_components(PyObject *self, PyObject *args);
PyObject *kernel_simd_sort(PyObject *self, PyObject *args);
PyObject *kernel_sort_sets(PyObject *self, PyObject *args);
PyObject *kernel_estimate(PyObject *self, PyObject *args);
PyObject *kernel_bucket_pairs(PyObject *self, PyObject *args);
extern const char kernel_verify_doc[], kernel_sort_sets_doc[], kernel_estimate_doc[], kernel_bucket_pairs_doc[],
    kernel_components_doc[], kernel_simd_sort_doc[];

#endif
