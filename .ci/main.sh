#!/bin/sh
# README set-up command 1: install what the build needs (Debian 12), build,
# and run the main job: `virtactor -c test:///default list --all`.
set -eu
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  cmake make g++ libcaf-dev libssl-dev libssh2-1-dev libsasl2-dev libpugixml-dev libboost-test-dev \
  nlohmann-json3-dev libreadline-dev libsystemd-dev
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2 --target virtactor
./build/client/shell/virtactor -c test:///default list --all
