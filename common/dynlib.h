/* A shared library loaded at run time with dlopen, its functions resolved into a struct of
 * function pointers by a table of {name, offset}: for the libraries a kernel may never need
 * (libcurl in agent/http.c, libcrypto in kernel/sign.c), which linked would cost every kernel
 * their memory and start-up. Lowest layer: names no library. */
#ifndef WARDEN_DYNLIB_H
#define WARDEN_DYNLIB_H

#include <stdbool.h>
#include <stddef.h>

struct dynlib_symbol {
    const char *name;
    size_t offset; /* of its function pointer in the struct to fill */
};

/* dlopen(soname) (RTLD_NOW | RTLD_LOCAL) and every symbol of the table written into api at its
 * offset. False when the library or one of the symbols is missing; the library then stays loaded
 * (as a failed load always did) and api must not be used. */
bool dynlib_load(const char *soname, const struct dynlib_symbol *symbols, size_t count, void *api);

#endif
