#!/bin/sh
# README set-up command 2: install what the build and the tests need (Debian 12),
# build everything, run the whole test suite under CTest.
set -eu
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  cmake make g++ libcaf-dev libssl-dev libssh2-1-dev libsasl2-dev libpugixml-dev libboost-test-dev \
  nlohmann-json3-dev libreadline-dev libsystemd-dev qemu-system-x86 qemu-utils binutils \
  libvirt-clients libvirt-daemon libvirt-dev pkg-config python3 python3-libvirt \
  tshark libvirt-wireshark openssh-server openssh-client netcat-openbsd procps socat \
  tmux systemd man-db sasl2-bin libsasl2-modules
# libvirtd (an interop peer in the tests) wants this user to exist.
getent passwd libvirt-qemu >/dev/null || $SUDO useradd -r -M libvirt-qemu
# The qemu interop tests (tests/interop/qemu/) run libvirtd's qemu driver as
# their reference; `ss` (iproute2) shows a frozen QEMU's unread monitor bytes.
$SUDO apt-get install -y -q --no-install-recommends libvirt-daemon-driver-qemu iproute2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2
cd build && ctest --output-on-failure --timeout 600 -j2
