#!/bin/sh
# check_includes.sh SOURCE_DIR — the layering rule for what include paths cannot catch.
# Each layer's target is compiled with only its own include paths (CMakeLists.txt), so
# `#include <lua.h>` in core/ or `#include "core/cert.h"` in lua/ does not compile. A quoted
# relative path ("../core/cert.h") is found next to the including file whatever the include
# paths say, and some headers (jansson.h, openssl/*) sit in the compiler's default path; this
# check refuses those. Allowed, per layer (docs/architecture.md):
#   base/    include/warden.h, its own headers, OpenSSL
#   core/    include/warden.h, base/, its own headers, libxml2, OpenSSL
#   lua/     include/warden.h, base/, its own headers, Lua, jansson
#   engine/  everything above
#   cli/     include/warden.h (as <warden.h>), its own headers, jansson, and base/file_text.h
#            and base/json_text.h (compiled into the command, server/ included); bindings use the public API only (not checked here)
set -eu
root=${1:?usage: check_includes.sh SOURCE_DIR}
status=0

# refuse LAYER PATTERN WHY: every include line in LAYER/*.[ch] matching PATTERN is an error.
refuse() {
    layer=$1 pattern=$2 why=$3
    found=$(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($pattern)" "$root/$layer"/*.[ch] || true)
    if [ -n "$found" ]; then
        printf '%s\n' "$found" | sed "s|^$root/||; s|\$|   <- $why|" >&2
        status=1
    fi
}

relative='\.\./(core|lua|engine|cli|base|bindings|server)/'
refuse base "$relative" "base/ uses no other layer"
refuse base 'lua|lauxlib|lualib|jansson|libxml/' "base/ depends on OpenSSL only"
refuse core "$relative" "core/ reaches base/ through its include path and nothing above it"
refuse core 'lua|lauxlib|lualib|jansson' "core/ never sees the policy runtime's libraries"
refuse lua "$relative" "lua/ reads messages through include/warden.h only"
refuse lua 'libxml/|openssl/' "lua/ does not touch XML or crypto objects (base/digest.h hashes)"
refuse engine '\.\./(cli|bindings|server)/' "engine/ is below the programs"
refuse cli '\.\./|(core|lua|engine|base)/|digest\.h|time_text\.h|lua|lauxlib|libxml/|openssl/' "cli/ uses the public API"

if [ "$status" -ne 0 ]; then
    echo "check_includes: the includes above cross a layer (see docs/architecture.md)" >&2
    exit 1
fi
echo "check_includes: base, core, lua, engine and cli include only what their layer allows"
