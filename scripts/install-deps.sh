#!/bin/sh
# Installs what building and testing etch needs, when it is missing: libcurl's headers, etcd's server and
# etcdctl (the compatibility reference), curl (the benchmark's baseline), and the tools the tests use (the
# shells the completions are tested in, mandoc and man-db for the man page, jq for -w jsonl).
# Runs apt-get only as root and only for packages that are not installed yet.
set -eu
packages="libcurl4-openssl-dev etcd-server etcd-client curl procps openssl bsdutils bash zsh fish mandoc man-db jq $*"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages:$missing (run as root, or install them with apt-get)" >&2
    exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
