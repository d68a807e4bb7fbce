#!/bin/sh
# Installs the Debian packages the build, the tests and the demo need, and only
# those that are missing. Safe to run again; does nothing when all are present.
# LuaJIT comes as luajit2 (OpenResty's branch, the one libnginx-mod-http-lua links):
# Debian's plain luajit package conflicts with it.
set -eu
PKGS="make gcc pkg-config lua5.4 liblua5.4-dev libcurl4-openssl-dev libssl-dev
      lua-cjson lua-busted lua-check luarocks
      nginx-light libnginx-mod-http-lua lua-resty-core luajit2 libluajit2-5.1-dev
      openssl curl ca-certificates valgrind clang libclang-rt-14-dev wrk tmux lua-readline"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The nginx package starts a system server on port 80 where it can; the project never uses it.
if command -v service >/dev/null 2>&1; then $SUDO service nginx stop >/dev/null 2>&1 || true; fi
