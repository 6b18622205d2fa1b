#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages ntm needs. Usage: scripts/deps.sh [build|test|all]
#   build: compiler, autotools and the -dev libraries
#   test:  build + what the test suite and the demo drive (namespaces, NAT, traffic)
# The one list of packages: .ci/run, scripts/demo and scripts/test all call this.
set -eu

BUILD_PKGS="build-essential autoconf automake pkg-config
	libuv1-dev libc-ares-dev libsodium-dev libb2-dev libnl-3-dev libnl-route-3-dev
	libjson-c-dev libcunit1-dev libsqlite3-dev libcoap3-dev libldns-dev
	libmicrohttpd-dev libsystemd-dev"
TEST_PKGS="iproute2 nftables conntrack iputils-ping iperf3 ethtool procps
	wireguard-tools wireguard-go socat jq util-linux libcoap3-bin sqlite3
	unbound dnsutils ldnsutils curl systemd dbus-daemon"

want="${1:-all}"
case "$want" in
build) pkgs="$BUILD_PKGS" ;;
test | all) pkgs="$BUILD_PKGS $TEST_PKGS" ;;
*)
	echo "usage: $0 [build|test|all]" >&2
	exit 1
	;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "$0: installing packages needs root (run with sudo)" >&2
	exit 1
fi

# Skip the slow apt-get update when everything is already there.
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	exit 0
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
