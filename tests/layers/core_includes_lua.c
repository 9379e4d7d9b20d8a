/* Must not compile: core/ is built without the Lua include path (tests/layers, CMakeLists.txt). */
#include <lua.h>

int wd_layer_probe(void);
int wd_layer_probe(void)
{
    return LUA_OK;
}
