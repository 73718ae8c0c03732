/* The JSON text of the four signed frames of every message (wire.c). jansson's json_dumps escapes
 * a string one code point at a time through a callback: 73 instructions a byte of a big stream
 * output under callgrind. This writes the same compact, ASCII-only JSON with runs of plain
 * bytes copied whole; reals, rare in messages, are left to jansson to format. */
#include "json_write.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"

struct out {
    char *buf;
    size_t len, cap;
    bool failed;
};

static bool reserve(struct out *o, size_t more)
{
    if (o->failed)
        return false;
    if (o->cap - o->len >= more)
        return true;
    size_t cap = o->cap ? o->cap : 256;
    while (cap - o->len < more)
        cap *= 2;
    char *grown = realloc(o->buf, cap);
    if (!grown) {
        o->failed = true;
        return false;
    }
    o->buf = grown;
    o->cap = cap;
    return true;
}

static void put(struct out *o, const char *s, size_t n)
{
    if (reserve(o, n)) {
        memcpy(o->buf + o->len, s, n);
        o->len += n;
    }
}

static void put_u(char *at, unsigned v)
{
    static const char hex[] = "0123456789abcdef";
    memcpy(at, "\\u", 2);
    for (int i = 0; i < 4; i++)
        at[2 + i] = hex[(v >> (12 - 4 * i)) & 0xF];
}

/* Decodes the valid UTF-8 sequence of n bytes at s. */
static unsigned code_point(const unsigned char *s, size_t n)
{
    if (n == 2)
        return (s[0] & 0x1Fu) << 6 | (s[1] & 0x3Fu);
    if (n == 3)
        return (s[0] & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
    return (s[0] & 0x07u) << 18 | (s[1] & 0x3Fu) << 12 | (s[2] & 0x3Fu) << 6 | (s[3] & 0x3Fu);
}

/* One character that needs an escape, at s: writes it, returns the bytes consumed (0: invalid
 * UTF-8, which jansson's strings never hold unless made without a check). */
static size_t put_escaped(struct out *o, const unsigned char *s, size_t avail)
{
    static const char short_form[] = "\"\"\\\\\bb\ff\nn\rr\tt";
    const char *hit = *s ? memchr(short_form, *s, sizeof short_form - 1) : NULL;
    if (hit && (hit - short_form) % 2 == 0) {
        char e[2] = {'\\', hit[1]};
        put(o, e, 2);
        return 1;
    }
    if (*s < 0x80) {
        char e[6];
        put_u(e, *s);
        put(o, e, 6);
        return 1;
    }
    size_t bad, n = utf8_sequence(s, avail, &bad);
    if (n == 0)
        return 0;
    unsigned cp = code_point(s, n);
    char e[12];
    if (cp < 0x10000) {
        put_u(e, cp);
        put(o, e, 6);
    } else {
        cp -= 0x10000;
        put_u(e, 0xD800 + (cp >> 10));
        put_u(e + 6, 0xDC00 + (cp & 0x3FF));
        put(o, e, 12);
    }
    return n;
}

static void put_string(struct out *o, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text, *end = s + len;
    put(o, "\"", 1);
    while (s < end && !o->failed) {
        const unsigned char *run = s;
        s += utf8_json_plain_run((const char *)s, (size_t)(end - s));
        put(o, (const char *)run, (size_t)(s - run));
        if (s < end) {
            size_t n = put_escaped(o, s, (size_t)(end - s));
            if (n == 0)
                o->failed = true;
            s += n;
        }
    }
    put(o, "\"", 1);
}

static void put_value(struct out *o, const json_t *v);

static void put_object(struct out *o, const json_t *v)
{
    const char *key;
    json_t *member;
    bool first = true;
    put(o, "{", 1);
    json_object_foreach((json_t *)v, key, member) {
        if (!first)
            put(o, ",", 1);
        first = false;
        put_string(o, key, strlen(key));
        put(o, ":", 1);
        put_value(o, member);
    }
    put(o, "}", 1);
}

static void put_array(struct out *o, const json_t *v)
{
    put(o, "[", 1);
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (i)
            put(o, ",", 1);
        put_value(o, json_array_get(v, i));
    }
    put(o, "]", 1);
}

static void put_value(struct out *o, const json_t *v)
{
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(o, v);
        break;
    case JSON_ARRAY:
        put_array(o, v);
        break;
    case JSON_STRING:
        put_string(o, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        put(o, num, strlen(num));
        break;
    case JSON_REAL: {
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (text)
            put(o, text, strlen(text));
        else
            o->failed = true; /* NaN or infinity: jansson refuses them too */
        free(text);
        break;
    }
    case JSON_TRUE:
        put(o, "true", 4);
        break;
    case JSON_FALSE:
        put(o, "false", 5);
        break;
    case JSON_NULL:
        put(o, "null", 4);
        break;
    }
}

char *json_write_compact(const json_t *value, size_t *len)
{
    struct out o = {0};
    put_value(&o, value);
    put(&o, "", 1); /* the terminating NUL, not counted */
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    *len = o.len - 1;
    return o.buf;
}
