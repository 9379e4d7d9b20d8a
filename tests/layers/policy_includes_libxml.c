/* Must not compile: lua/ is built without libxml2's include path (tests/layers, CMakeLists.txt). */
#include <libxml/tree.h>

int wd_layer_probe(void);
int wd_layer_probe(void)
{
    return 0;
}
