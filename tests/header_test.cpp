/* The public header compiles on its own as C++ (header_test.c checks strict C11):
 * nothing it needs may come from somewhere else. */
#include <vidmotion/vidmotion.h>

/* Something from every part of the header, so that it is really parsed. */
int main(void)
{
    vmo_event ev;
    vmo_frame fr;
    vmo_io io;
    ev.struct_size = sizeof(ev);
    fr.struct_size = sizeof(fr);
    io.struct_size = sizeof(io);
    (void)fr;
    (void)io;
    return (int)(vmo_version() >> 24) + (int)(ev.struct_size != sizeof(ev)) +
           (VMO_ERR_BAD_MANIFEST < 0 ? 0 : 1);
}
