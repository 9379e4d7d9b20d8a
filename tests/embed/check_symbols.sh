#!/bin/sh
# check_symbols.sh LIBRARY — fails when the shared library's dynamic symbol table defines a
# symbol outside the public API: everything exported must start with warden_. Symbols the
# linker itself defines (_init, _fini, __bss_start, _edata, _end, ...) are ignored.
set -eu
library=${1:?usage: check_symbols.sh LIBWARDEN.so}
command -v nm >/dev/null 2>&1 || { echo "check_symbols: nm (binutils) is not installed" >&2; exit 1; }
[ -f "$library" ] || { echo "check_symbols: no such file: $library" >&2; exit 1; }

symbols=$(nm -D --defined-only "$library") || { echo "check_symbols: nm failed on $library" >&2; exit 1; }

# Each line: [address] type name[@version]. Keep the name, drop a version suffix.
names=$(printf '%s\n' "$symbols" | awk 'NF >= 2 { name = $NF; sub(/@.*/, "", name); print name }')
public=$(printf '%s\n' "$names" | grep -c '^warden_' || true)
strays=$(printf '%s\n' "$names" | grep -v '^warden_' \
         | grep -Ev '^(_init|_fini|__bss_start|_edata|_end|__end__|_etext|__etext|__data_start|_DYNAMIC|_GLOBAL_OFFSET_TABLE_|__dso_handle|__TMC_END__)$' \
         | grep -v '^$' || true)

if [ "$public" -eq 0 ]; then
    echo "check_symbols: $library exports no warden_ symbol at all" >&2
    exit 1
fi
if [ -n "$strays" ]; then
    echo "check_symbols: $library exports symbols outside the public API (not warden_*):" >&2
    printf '%s\n' "$strays" | while read -r name; do
        printf '%s\n' "$symbols" | awk -v n="$name" '{ s = $NF; sub(/@.*/, "", s); if (s == n) print "  " $0 }'
    done >&2
    exit 1
fi
echo "check_symbols: $public symbols exported, all warden_*"
