#!/bin/sh
# install_and_build.sh BUILD_DIR SOURCE_DIR LIBDIR CC CMAKE
#
# Installs the build into a temporary prefix with `cmake --install`, then builds
# examples/embed against that prefix as an outside project would: through its
# CMakeLists.txt (find_package(Warden), CMAKE_PREFIX_PATH) and through its Makefile
# (pkg-config, PKG_CONFIG_PATH), and once more with find_package(Warden COMPONENTS static)
# linking libwarden.a. Each program then runs on the example policy set
# (examples/orders.lua) with the clock pinned: the signed fixture must be allowed, the
# tampered one rejected at the security stage.
#
# Sanitized builds: the installed metadata (warden.pc Libs:, Warden::warden's link options)
# carries -fsanitize=..., so all three outside builds link the sanitizer runtimes themselves, and
# the programs run under ASAN_OPTIONS/UBSAN_OPTIONS as ctest passes them (leak checks
# included). Nothing is preloaded. LIBDIR is CMAKE_INSTALL_LIBDIR as install.cmake chose it.
set -eu
build=${1:?usage: install_and_build.sh BUILD_DIR SOURCE_DIR LIBDIR CC CMAKE}
source=${2:?}
libdir=${3:?}
cc=${4:?}
cmake=${5:?}

work=$(mktemp -d "${TMPDIR:-/tmp}/warden-embed.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
prefix=$work/prefix
now=2026-11-25T12:00:30Z
config=$source/examples/orders.lua
fixtures=$source/policies/fixtures
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
step() { echo "--- $*"; }

# --- install ------------------------------------------------------------------------------
step "cmake --install into a temporary prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log" >&2; exit 1; }
for file in "$libdir/libwarden.so" "$libdir/libwarden.so.0" "$libdir/libwarden.a" include/warden.h bin/warden \
            "$libdir/pkgconfig/warden.pc" "$libdir/cmake/Warden/WardenConfig.cmake" \
            "$libdir/cmake/Warden/WardenConfigVersion.cmake" "$libdir/cmake/Warden/WardenTargets.cmake"; do
    [ -e "$prefix/$file" ] || fail "not installed: $file"
done
soname=$(objdump -p "$prefix/$libdir/libwarden.so" 2>/dev/null | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = libwarden.so.0 ] || fail "SONAME is '$soname', expected libwarden.so.0"
grep -q "^prefix=$prefix\$" "$prefix/$libdir/pkgconfig/warden.pc" || fail "warden.pc does not name the install prefix"
"$prefix/bin/warden" --version >/dev/null || fail "the installed warden command does not run"
[ "$failures" -eq 0 ] || exit 1

# --- run one built program on the fixtures --------------------------------------------------
check_program() {
    program=$1
    how=$2
    out=$work/$how.out
    if "$program" -c "$config" --now "$now" --body amount "$fixtures/create-small.xml" >"$out" 2>&1; then
        grep -q "create-small.xml: allow (policy: permitted)" "$out" || fail "$how: no allow decision"
        grep -q "signer    CN=alice" "$out" || fail "$how: the signer's subject is not printed"
    else
        fail "$how: create-small.xml was not allowed (exit $?)"
    fi
    cat "$out"
    status=0
    "$program" -c "$config" --now "$now" "$fixtures/create-tampered.xml" >"$out" 2>&1 || status=$?
    cat "$out"
    [ "$status" -eq 1 ] || fail "$how: create-tampered.xml: exit $status, expected 1 (denied)"
    grep -q "create-tampered.xml: deny (security: digest-mismatch)" "$out" \
        || fail "$how: the tampered message was not rejected by security processing"
}

# --- 1. CMake: find_package(Warden) ---------------------------------------------------------
step "outside project with find_package(Warden)"
if "$cmake" -S "$source/examples/embed" -B "$work/cmake-build" -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
        -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$work/cmake.log" 2>&1 \
   && "$cmake" --build "$work/cmake-build" >>"$work/cmake.log" 2>&1; then
    grep -q "Found Warden 0.2.0 in $prefix/" "$work/cmake.log" || fail "find_package did not take Warden from the prefix"
    check_program "$work/cmake-build/warden-embed" cmake
else
    cat "$work/cmake.log" >&2
    fail "the find_package build failed"
fi

# --- 2. CMake: find_package(Warden COMPONENTS static), libwarden.a -------------------------
step "outside project with find_package(Warden COMPONENTS static)"
if "$cmake" -S "$source/examples/embed" -B "$work/static-build" -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DWARDEN_EMBED_STATIC=ON \
        -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$work/static.log" 2>&1 \
   && "$cmake" --build "$work/static-build" >>"$work/static.log" 2>&1; then
    if objdump -p "$work/static-build/warden-embed" | grep -q 'NEEDED *libwarden'; then
        fail "the static build still needs libwarden.so"
    fi
    check_program "$work/static-build/warden-embed" static
else
    cat "$work/static.log" >&2
    fail "the find_package static build failed"
fi

# --- 3. Makefile: pkg-config ------------------------------------------------------------------
step "outside project with its Makefile and pkg-config"
mkdir -p "$work/make-build"
if (cd "$work/make-build" && PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" \
        make -f "$source/examples/embed/Makefile" CC="$cc" CFLAGS="-O1 -g -Wall -Wextra -Werror") \
        >"$work/make.log" 2>&1; then
    cat "$work/make.log"
    # stdin as a stream of NUL-separated messages, the service loop
    status=0
    { cat "$fixtures/create-small.xml"; printf '\0'; cat "$fixtures/create-tampered.xml"; } \
        | "$work/make-build/warden-embed" -c "$config" --now "$now" >"$work/stream.out" 2>&1 || status=$?
    cat "$work/stream.out"
    grep -q "stdin#1: allow" "$work/stream.out" && grep -q "stdin#2: deny (security: digest-mismatch)" "$work/stream.out" \
        && [ "$status" -eq 1 ] || fail "make: the stdin stream was not decided as allow, deny (exit $status)"
    check_program "$work/make-build/warden-embed" make
else
    cat "$work/make.log" >&2
    fail "the pkg-config build failed"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "embed_install: installed tree; find_package (shared, static) and pkg-config builds all work"
