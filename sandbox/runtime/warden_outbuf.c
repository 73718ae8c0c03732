/* warden_outbuf: the worker's output buffer and the write() of sys.stdout/sys.stderr, in C.
 *
 * Why C: print() calls its file's write() twice a line (the text, then "\n"). As Python methods,
 * the drain check and the buffering cost about 1.1 us a write (measured in the jail: a 10 000-line
 * print spent 25 ms in its loop, 11 ms of it with the drain check removed, 2-3 ms printing to
 * /dev/null), which made a printing cell slower than ipykernel's. Here one write is a vectorcall,
 * the same epoll_wait(0) the Python drain() made, and a list append.
 *
 * What stays in Python (warden_streams.py): when and how the buffer becomes frames, the flusher
 * thread, draining the fd pipes, interrupts. This module calls back into it for every case that
 * is not the plain one: text that is not an exact str, a forked child, fd-level output waiting,
 * the 64 KiB flush, waking the flusher, a pending interrupt.
 *
 * Thread safety: every function here runs holding the GIL and calls no Python code while the
 * buffer is half-updated, so an append and a take() are atomic with respect to each other; the
 * Outbox's lock orders frames on the channel, not the buffer (see Outbox.write). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>
#include <sys/epoll.h>

/* poll_fd values besides a real epoll fd: no capture pipe to check, or a set to (re)build first */
enum { POLL_NOTHING = -1, POLL_REBUILD = -2 };

typedef struct {
    PyObject ob_base;    /* PyObject_HEAD */
    PyObject *segments;  /* [[name, [text, ...]], ...] in write order */
    PyObject *tail_name; /* name of segments[-1] (borrowed from it), or NULL */
    PyObject *tail;      /* its parts list (borrowed), or NULL */
    Py_ssize_t size;     /* characters buffered */
    Py_ssize_t flush_bytes;
    int idle;             /* the flusher waits for text and must be woken */
    int forked;           /* a forked child: writes go to the fd pipes, never to the buffer */
    int poll_fd;          /* the capture pipes' epoll set */
    PyObject *drain;      /* Outbox.drain */
    PyObject *reading;    /* a capture pipe's read in flight: capture_lock.locked */
    PyObject *after;      /* Outbox._after_write: flush at flush_bytes, or wake the flusher */
    PyObject *interrupts; /* warden_signals.INTERRUPTS: ._pending, .deliver_pending() */
} Buffer;

typedef struct {
    PyObject ob_base; /* PyObject_HEAD */
    vectorcallfunc vectorcall;
    Buffer *buf;
    PyObject *name; /* "stdout" or "stderr" */
    PyObject *slow; /* OutStream._write_slow: every write that is not the plain case */
} Writer;

static PyTypeObject BufferType;
static PyTypeObject WriterType;
static int usable(const Buffer *b);

/* Interned once at import: a lookup by C string would make a new str every write. */
static struct {
    PyObject *sys; /* the sys module: sys.stdout is its attribute, whatever sys.modules says */
    PyObject *stdout_, *write, *flush, *pending, *deliver_pending, *space, *newline;
} names;

static int intern_names(void)
{
    names.sys = PyImport_ImportModule("sys");
    names.stdout_ = PyUnicode_InternFromString("stdout");
    names.write = PyUnicode_InternFromString("write");
    names.flush = PyUnicode_InternFromString("flush");
    names.pending = PyUnicode_InternFromString("_pending");
    names.deliver_pending = PyUnicode_InternFromString("deliver_pending");
    names.space = PyUnicode_InternFromString(" ");
    names.newline = PyUnicode_InternFromString("\n");
    return names.sys && names.stdout_ && names.write && names.flush && names.pending &&
                   names.deliver_pending && names.space && names.newline
               ? 0
               : -1;
}

/* Append `text` (an exact, non-empty str) to stream `name`. Returns 1 when Python must run
 * after_write (the buffer reached flush_bytes, or the flusher sleeps), 0 otherwise, -1 on error
 * (the buffer is unchanged). */
static int buffer_append(Buffer *b, PyObject *name, PyObject *text)
{
    if (b->tail && (b->tail_name == name || PyUnicode_Compare(b->tail_name, name) == 0)) {
        if (PyList_Append(b->tail, text) < 0)
            return -1;
    } else {
        if (PyErr_Occurred())
            return -1;
        PyObject *parts = PyList_New(1);
        if (!parts)
            return -1;
        Py_INCREF(text);
        PyList_SET_ITEM(parts, 0, text);
        PyObject *seg = PyList_New(2);
        if (!seg) {
            Py_DECREF(parts);
            return -1;
        }
        Py_INCREF(name);
        PyList_SET_ITEM(seg, 0, name);
        PyList_SET_ITEM(seg, 1, parts); /* seg owns it now */
        int rc = PyList_Append(b->segments, seg);
        Py_DECREF(seg);
        if (rc < 0)
            return -1;
        b->tail = parts; /* alive in seg, alive in segments */
        b->tail_name = name;
    }
    b->size += PyUnicode_GET_LENGTH(text);
    return b->size >= b->flush_bytes || b->idle;
}

/* Must drain() run before this write? fd-level output written before it may be in a pipe (the
 * epoll set is ready), or a reader thread may have taken it and not buffered it yet (it holds
 * the capture lock from read to buffer). Checked in that order, as Outbox.drain does: a read
 * taken after the poll is then seen by the lock. Any error says "drain": it knows what to do. */
static int must_drain(Buffer *b)
{
    if (b->poll_fd >= 0) {
        struct epoll_event ev;
        if (epoll_wait(b->poll_fd, &ev, 1, 0) != 0)
            return 1;
    }
    PyObject *busy = PyObject_CallNoArgs(b->reading);
    if (!busy) {
        PyErr_Clear();
        return 1;
    }
    int yes = PyObject_IsTrue(busy);
    Py_DECREF(busy);
    if (yes < 0)
        PyErr_Clear();
    return yes != 0;
}

static int call_back(PyObject *fn)
{
    PyObject *r = PyObject_CallNoArgs(fn);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* Output is a chance to raise an interrupt that was held back (see warden_signals). */
static int deliver_pending(Buffer *b)
{
    PyObject *pending = PyObject_GetAttr(b->interrupts, names.pending);
    if (!pending)
        return -1;
    int yes = PyObject_IsTrue(pending);
    Py_DECREF(pending);
    if (yes <= 0)
        return yes;
    PyObject *r = PyObject_CallMethodNoArgs(b->interrupts, names.deliver_pending);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* ---- Writer: the bound write() of one stream ------------------------------------------------ */

static PyObject *writer_gone(void)
{
    PyErr_SetString(PyExc_RuntimeError, "this stream's buffer is gone");
    return NULL;
}

static PyObject *writer_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf,
                                   PyObject *kwnames)
{
    Writer *w = (Writer *)self;
    Buffer *b = w->buf;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 1 || (kwnames && PyTuple_GET_SIZE(kwnames))) {
        PyErr_Format(PyExc_TypeError, "write() takes exactly one argument (%zd given)",
                     nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0));
        return NULL;
    }
    PyObject *s = args[0];
    if (!PyUnicode_CheckExact(s) || b->forked || b->poll_fd == POLL_REBUILD || !usable(b))
        return w->slow ? PyObject_CallOneArg(w->slow, s) : writer_gone();
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (n == 0)
        return PyLong_FromLong(0);
    if (must_drain(b) && call_back(b->drain) < 0)
        return NULL;
    int after = buffer_append(b, w->name, s);
    if (after < 0 || (after && call_back(b->after) < 0) || deliver_pending(b) < 0)
        return NULL;
    return PyLong_FromSsize_t(n);
}

static int writer_traverse(PyObject *self, visitproc visit, void *arg)
{
    Writer *w = (Writer *)self;
    Py_VISIT(w->buf);
    Py_VISIT(w->name);
    Py_VISIT(w->slow);
    return 0;
}

static int writer_clear(PyObject *self)
{
    Writer *w = (Writer *)self;
    Py_CLEAR(w->buf);
    Py_CLEAR(w->name);
    Py_CLEAR(w->slow);
    return 0;
}

static void writer_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    writer_clear(self);
    Py_TYPE(self)->tp_free(self);
}

static PyTypeObject WriterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "warden_outbuf.Writer",
    .tp_basicsize = sizeof(Writer),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "write(text) of one stream into a Buffer (made by Buffer.writer)",
    .tp_vectorcall_offset = offsetof(Writer, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_traverse = writer_traverse,
    .tp_clear = writer_clear,
    .tp_dealloc = writer_dealloc,
};

/* ---- print(): one drain check a call --------------------------------------------------------
 *
 * print(x) writes str(x), then "\n": two writes, two drain checks, and the epoll_wait of a check
 * is most of a write's cost. Between those writes only str() of the next argument runs, and for
 * an exact str, int, float, bool or None that is the interpreter's own C code, which writes to no
 * fd: nothing fd-level can come between them, so one check before the first write keeps the
 * order drain() guarantees. Every other call (another file, other argument types, a bad keyword)
 * is the builtin print's, unchanged. */

static PyObject *builtin_print;

static int plain_value(PyObject *v)
{
    return PyUnicode_CheckExact(v) || PyLong_CheckExact(v) || PyFloat_CheckExact(v) ||
           PyBool_Check(v) || v == Py_None;
}

/* The keywords of a plain call: sep and end exact str (or None), file None or a stream of ours,
 * flush anything (its truth is taken, as print does). Returns 0 when the call is not plain. */
static int plain_keywords(PyObject *const *kwargs, PyObject *kwnames, PyObject **sep,
                          PyObject **end, PyObject **file, PyObject **flush)
{
    Py_ssize_t n = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i), *v = kwargs[i];
        if (PyUnicode_CompareWithASCIIString(key, "sep") == 0)
            *sep = v;
        else if (PyUnicode_CompareWithASCIIString(key, "end") == 0)
            *end = v;
        else if (PyUnicode_CompareWithASCIIString(key, "file") == 0)
            *file = v;
        else if (PyUnicode_CompareWithASCIIString(key, "flush") == 0)
            *flush = v;
        else
            return 0;
    }
    return (*sep == Py_None || PyUnicode_CheckExact(*sep)) &&
           (*end == Py_None || PyUnicode_CheckExact(*end));
}

/* The stream print writes to: `file`, or sys.stdout for None. A new reference, or NULL with no
 * error set when there is none (print then does nothing, as the builtin does). */
static PyObject *target_of(PyObject *file)
{
    if (file != Py_None)
        return Py_NewRef(file);
    PyObject *out = PyObject_GetAttr(names.sys, names.stdout_);
    if (!out)
        PyErr_Clear();
    return out;
}

/* The Writer print would call for `file` (a new reference), or NULL (no error set) when it is
 * not one of ours. */
static Writer *writer_of(PyObject *file)
{
    PyObject *target = target_of(file);
    if (!target)
        return NULL;
    PyObject *write = PyObject_GetAttr(target, names.write);
    Py_DECREF(target);
    if (!write) {
        PyErr_Clear();
        return NULL;
    }
    if (Py_TYPE(write) != &WriterType) {
        Py_DECREF(write);
        return NULL;
    }
    return (Writer *)write;
}

/* Append str(v) (v a plain value); *after |= what buffer_append says. */
static int append_value(Buffer *b, PyObject *name, PyObject *v, int *after)
{
    PyObject *text = PyObject_Str(v);
    if (!text)
        return -1;
    int rc = 0;
    if (PyUnicode_GET_LENGTH(text) > 0) {
        rc = buffer_append(b, name, text);
        if (rc > 0)
            *after = 1;
    }
    Py_DECREF(text);
    return rc < 0 ? -1 : 0;
}

static PyObject *fast_print(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    (void)self;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *sep = Py_None, *end = Py_None, *file = Py_None, *flush = Py_False;
    Writer *w = NULL;
    int plain = plain_keywords(args + nargs, kwnames, &sep, &end, &file, &flush);
    for (Py_ssize_t i = 0; plain && i < nargs; i++)
        plain = plain_value(args[i]);
    if (plain)
        w = writer_of(file);
    if (w && (w->buf->forked || w->buf->poll_fd == POLL_REBUILD || !usable(w->buf)))
        Py_CLEAR(w);
    if (!w)
        return PyObject_Vectorcall(builtin_print, args, nargsf, kwnames);

    Buffer *b = w->buf;
    PyObject *result = NULL;
    int after = 0;
    if (must_drain(b) && call_back(b->drain) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        if (i > 0 && append_value(b, w->name, sep == Py_None ? names.space : sep, &after) < 0)
            goto done;
        if (append_value(b, w->name, args[i], &after) < 0)
            goto done;
    }
    if (append_value(b, w->name, end == Py_None ? names.newline : end, &after) < 0)
        goto done;
    if ((after && call_back(b->after) < 0) || deliver_pending(b) < 0)
        goto done;
    int want_flush = PyObject_IsTrue(flush);
    if (want_flush < 0)
        goto done;
    if (want_flush) {
        PyObject *target = target_of(file);
        PyObject *r = target ? PyObject_CallMethodNoArgs(target, names.flush) : NULL;
        Py_XDECREF(target);
        if (!r && !PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "lost sys.stdout");
        if (!r)
            goto done;
        Py_DECREF(r);
    }
    result = Py_NewRef(Py_None);
done:
    Py_DECREF(w);
    return result;
}

/* The builtin's help text and signature, in the "name(sig)\n--\n\n" form CPython reads
 * __text_signature__ from, so help(print) and inspect.signature(print) say the same as before.
 * Made once and kept for the process (a method table's doc must outlive its functions). */
static const char *builtin_doc(PyObject *original)
{
    PyObject *doc = PyObject_GetAttrString(original, "__doc__");
    PyObject *sig = PyObject_GetAttrString(original, "__text_signature__");
    PyErr_Clear();
    PyObject *text = NULL;
    if (doc && PyUnicode_Check(doc))
        text = sig && PyUnicode_Check(sig) ? PyUnicode_FromFormat("print%U\n--\n\n%U", sig, doc)
                                           : Py_NewRef(doc);
    Py_XDECREF(doc);
    Py_XDECREF(sig);
    const char *utf8 = text ? PyUnicode_AsUTF8(text) : NULL;
    char *copy = utf8 ? PyMem_RawMalloc(strlen(utf8) + 1) : NULL;
    if (copy)
        strcpy(copy, utf8);
    Py_XDECREF(text);
    PyErr_Clear();
    return copy;
}

static PyObject *make_print(PyObject *module, PyObject *original)
{
    if (!PyCallable_Check(original)) {
        PyErr_SetString(PyExc_TypeError, "make_print(builtins.print)");
        return NULL;
    }
    Py_INCREF(original);
    Py_XSETREF(builtin_print, original);
    static PyMethodDef def = {"print", (PyCFunction)(void (*)(void))fast_print,
                              METH_FASTCALL | METH_KEYWORDS, NULL};
    if (!def.ml_doc)
        def.ml_doc = builtin_doc(original);
    /* bound to the builtins module, as the builtin is: print.__self__ and __module__ say
     * "builtins", and the signature drops its $module */
    PyObject *builtins = PyImport_ImportModule("builtins");
    PyObject *name = builtins ? PyUnicode_FromString("builtins") : NULL;
    PyObject *fn = name ? PyCFunction_NewEx(&def, builtins, name) : NULL;
    Py_XDECREF(name);
    Py_XDECREF(builtins);
    (void)module;
    return fn;
}

/* ---- Buffer ------------------------------------------------------------------------------- */

static int buffer_init(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"flush_bytes", "drain", "reading", "after_write", "interrupts", NULL};
    Buffer *b = (Buffer *)self;
    Py_ssize_t flush_bytes;
    PyObject *drain, *reading, *after, *interrupts;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "nOOOO", kwlist, &flush_bytes, &drain, &reading,
                                     &after, &interrupts))
        return -1;
    PyObject *segments = PyList_New(0);
    if (!segments)
        return -1;
    Py_XSETREF(b->segments, segments);
    b->tail = b->tail_name = NULL;
    b->size = 0;
    b->flush_bytes = flush_bytes;
    b->idle = b->forked = 0;
    b->poll_fd = POLL_REBUILD;
    Py_INCREF(drain);
    Py_XSETREF(b->drain, drain);
    Py_INCREF(reading);
    Py_XSETREF(b->reading, reading);
    Py_INCREF(after);
    Py_XSETREF(b->after, after);
    Py_INCREF(interrupts);
    Py_XSETREF(b->interrupts, interrupts);
    return 0;
}

/* Buffer.__new__ without __init__ (user code can import this module too) has no lists yet. */
static int usable(const Buffer *b)
{
    return b->segments && b->drain && b->reading && b->after && b->interrupts;
}

static int initialised(Buffer *b)
{
    if (usable(b))
        return 1;
    PyErr_SetString(PyExc_RuntimeError, "warden_outbuf.Buffer used before __init__");
    return 0;
}

static PyObject *buffer_append_method(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!initialised((Buffer *)self))
        return NULL;
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyUnicode_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "append(name: str, text: str)");
        return NULL;
    }
    if (PyUnicode_GET_LENGTH(args[1]) == 0)
        Py_RETURN_FALSE;
    int after = buffer_append((Buffer *)self, args[0], args[1]);
    if (after < 0)
        return NULL;
    return PyBool_FromLong(after);
}

static PyObject *buffer_take(PyObject *self, PyObject *unused)
{
    (void)unused;
    Buffer *b = (Buffer *)self;
    if (!initialised(b))
        return NULL;
    PyObject *fresh = PyList_New(0);
    if (!fresh)
        return NULL;
    PyObject *taken = b->segments;
    b->segments = fresh;
    b->tail = b->tail_name = NULL;
    b->size = 0;
    return taken;
}

static PyObject *buffer_mark_idle_if_empty(PyObject *self, PyObject *unused)
{
    (void)unused;
    Buffer *b = (Buffer *)self;
    if (!initialised(b))
        return NULL;
    b->idle = PyList_GET_SIZE(b->segments) == 0;
    return PyBool_FromLong(b->idle);
}

static PyObject *buffer_writer(PyObject *self, PyObject *args)
{
    PyObject *name, *slow;
    if (!PyArg_ParseTuple(args, "UO:writer", &name, &slow) || !initialised((Buffer *)self))
        return NULL;
    Writer *w = PyObject_GC_New(Writer, &WriterType);
    if (!w)
        return NULL;
    w->vectorcall = writer_vectorcall;
    Py_INCREF(self);
    w->buf = (Buffer *)self;
    Py_INCREF(name);
    w->name = name;
    Py_INCREF(slow);
    w->slow = slow;
    PyObject_GC_Track(w);
    return (PyObject *)w;
}

static PyObject *buffer_get_size(PyObject *self, void *unused)
{
    (void)unused;
    return PyLong_FromSsize_t(((Buffer *)self)->size);
}

static PyObject *buffer_get_segments(PyObject *self, void *unused)
{
    (void)unused;
    if (!initialised((Buffer *)self))
        return NULL;
    return Py_NewRef(((Buffer *)self)->segments);
}

static PyObject *buffer_get_flag(PyObject *self, void *offset)
{
    return PyLong_FromLong(*(int *)((char *)self + (size_t)offset));
}

static int buffer_set_flag(PyObject *self, PyObject *value, void *offset)
{
    if (!value || !PyLong_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "an int (or bool) is required");
        return -1;
    }
    long v = PyLong_AsLong(value);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < INT_MIN || v > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "out of range");
        return -1;
    }
    *(int *)((char *)self + (size_t)offset) = (int)v;
    return 0;
}

static int buffer_traverse(PyObject *self, visitproc visit, void *arg)
{
    Buffer *b = (Buffer *)self;
    Py_VISIT(b->segments);
    Py_VISIT(b->drain);
    Py_VISIT(b->reading);
    Py_VISIT(b->after);
    Py_VISIT(b->interrupts);
    return 0;
}

static int buffer_clear(PyObject *self)
{
    Buffer *b = (Buffer *)self;
    b->tail = b->tail_name = NULL;
    Py_CLEAR(b->segments);
    Py_CLEAR(b->drain);
    Py_CLEAR(b->reading);
    Py_CLEAR(b->after);
    Py_CLEAR(b->interrupts);
    return 0;
}

static void buffer_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    buffer_clear(self);
    Py_TYPE(self)->tp_free(self);
}

static PyMethodDef buffer_methods[] = {
    {"append", (PyCFunction)(void (*)(void))buffer_append_method, METH_FASTCALL,
     "append(name, text) -> True when after_write must run (no drain: for the pipe readers)"},
    {"take", buffer_take, METH_NOARGS, "the buffered segments, leaving the buffer empty"},
    {"mark_idle_if_empty", buffer_mark_idle_if_empty, METH_NOARGS,
     "idle = nothing is buffered, in one step (the flusher's test before it waits)"},
    {"writer", buffer_writer, METH_VARARGS, "writer(name, slow) -> the write() of a stream"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef buffer_getset[] = {
    {"size", buffer_get_size, NULL, "characters buffered", NULL},
    {"segments", buffer_get_segments, NULL, "the buffered segments (not a copy)", NULL},
    {"idle", buffer_get_flag, buffer_set_flag, "the flusher waits for text",
     (void *)offsetof(Buffer, idle)},
    {"forked", buffer_get_flag, buffer_set_flag, "a forked child: every write is slow",
     (void *)offsetof(Buffer, forked)},
    {"poll_fd", buffer_get_flag, buffer_set_flag,
     "the capture pipes' epoll fd; -1: none; -2: drain() must rebuild it first",
     (void *)offsetof(Buffer, poll_fd)},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject BufferType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "warden_outbuf.Buffer",
    .tp_basicsize = sizeof(Buffer),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Buffer(flush_bytes, drain, reading, after_write, interrupts): ordered stream text",
    .tp_new = PyType_GenericNew,
    .tp_init = buffer_init,
    .tp_traverse = buffer_traverse,
    .tp_clear = buffer_clear,
    .tp_dealloc = buffer_dealloc,
    .tp_methods = buffer_methods,
    .tp_getset = buffer_getset,
};

static PyMethodDef module_methods[] = {
    {"make_print", make_print, METH_O,
     "make_print(builtins.print) -> a print that checks the pipes once a call (see the source)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef outbuf_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "warden_outbuf",
    .m_doc = "The worker's stream buffer and the write() of sys.stdout/sys.stderr.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit_warden_outbuf(void)
{
    if (intern_names() < 0 || PyType_Ready(&BufferType) < 0 || PyType_Ready(&WriterType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&outbuf_module);
    if (!m)
        return NULL;
    if (PyModule_AddObjectRef(m, "Buffer", (PyObject *)&BufferType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
