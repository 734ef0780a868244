#!/usr/bin/env bash
# Install the Debian packages the controller's tests and the lab need, when they are missing:
# redis-server (the app's tests), wrk and gcc (the benchmark tools' tests: wrk, and the open-loop
# client built from C), chromium (the report's browser test), debootstrap (the lab image), caddy
# (the caddy role's tests validate the Caddyfiles it renders with Debian's Caddy, as the hosts run).
# Docker is handled by ensure-docker.sh.
set -euo pipefail

declare -A command_of=([redis-server]=redis-server [wrk]=wrk [gcc]=gcc [chromium]=chromium
  [debootstrap]=debootstrap [caddy]=caddy)
missing=()
for package in "${!command_of[@]}"; do
  command -v "${command_of[$package]}" >/dev/null 2>&1 || [ -x "/usr/sbin/${command_of[$package]}" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-host-packages: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "ensure-host-packages: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
# Debian starts redis-server on install; the tests start their own on a free port.
# It starts caddy too, serving its welcome page on port 80 of every address: the tests only run
# `caddy validate`, so a Caddy installed here is stopped and kept from starting at boot.
if [[ " ${missing[*]} " == *" caddy "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now caddy.service >/dev/null 2>&1 || true
fi
