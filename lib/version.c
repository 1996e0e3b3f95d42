/* Version of the loaded library. */
#include "internal.h"

#define VMO_STR2(x) #x
#define VMO_STR(x) VMO_STR2(x)

uint32_t vmo_version(void)
{
    return VMO_VERSION;
}

const char *vmo_version_string(void)
{
    return VMO_STR(VMO_VERSION_MAJOR) "." VMO_STR(VMO_VERSION_MINOR) "." VMO_STR(
        VMO_VERSION_PATCH);
}
