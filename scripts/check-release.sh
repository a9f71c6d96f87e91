#!/bin/sh
# Checks a release binary links libstdc++ statically and has no RUNPATH or RPATH (SwiftPM adds $ORIGIN unless built with --disable-local-rpath),
# so an installed etch never loads a libcurl.so.4 that someone placed next to it: by readelf, and by running a
# copy beside a libcurl.so.4 that is not a library (a binary that looked there would fail to start).
set -eu
bin=${1:?usage: check-release.sh BINARY}
if readelf -d "$bin" | grep -i -E 'R(UN)?PATH'; then
    echo "check-release: $bin has a RUNPATH/RPATH (above): build it with --disable-local-rpath" >&2
    exit 1
fi
# libstdc++ is linked in (the Makefile's STATIC_LIBS): one shared library fewer to load at every start.
if readelf -d "$bin" | grep -q 'NEEDED.*libstdc++'; then
    echo "check-release: $bin needs libstdc++.so: the static archive was not found (clang -print-file-name=libstdc++.a)" >&2
    exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$bin" "$dir/etch"
echo "not a library" > "$dir/libcurl.so.4"
if ! "$dir/etch" --help > /dev/null 2> "$dir/stderr"; then
    cat "$dir/stderr" >&2
    echo "check-release: $bin, copied next to a bogus libcurl.so.4, did not start (above)" >&2
    exit 1
fi
echo "check-release: $bin has no RUNPATH/RPATH and ignores a libcurl.so.4 beside it"
