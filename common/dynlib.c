#include "dynlib.h"

#include <dlfcn.h>
#include <string.h>

bool dynlib_load(const char *soname, const struct dynlib_symbol *symbols, size_t count, void *api)
{
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    bool ok = lib != NULL;
    for (size_t i = 0; lib && i < count; i++) {
        void *fn = dlsym(lib, symbols[i].name);
        if (!fn)
            ok = false;
        /* a data pointer to a function pointer: memcpy, as POSIX's dlsym implies it is sound */
        memcpy((char *)api + symbols[i].offset, &fn, sizeof fn);
    }
    return ok;
}
