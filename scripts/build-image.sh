#!/usr/bin/env bash
# Build the lab's base image: Debian 12 with systemd, from Debian's packages.
# No image registry is reachable from the build machines, so the root filesystem is made with
# debootstrap and turned into an image with `docker import`. The tag carries a hash of this
# script, so the image is rebuilt only when the recipe changes.
#
# Usage: scripts/build-image.sh            builds (or reuses) and prints the image reference
# Env:   LAB_IMAGE_REPO   image repository (default django-server-lab/debian12-systemd)
#        DEBIAN_MIRROR    mirror for debootstrap (default http://deb.debian.org/debian)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=${LAB_IMAGE_REPO:-django-server-lab/debian12-systemd}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What the image holds is only what Ansible needs to reach a host (python3, sudo; python3-apt,
# without which Ansible's apt module cannot run in check mode, so `--check` on a new host could
# not say what it would do) and what a systemd host has anyway. Everything the roles install
# stays out, so tests prove the roles install it; Debian's EXTERNALLY-MANAGED marker stays in
# place like on a real VM.
packages=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,procps
recipe_hash=$(sha256sum "$0" | cut -c1-12)
tag="$repo:$recipe_hash"

log() { printf 'build-image: %s\n' "$*" >&2; }

"$here/ensure-docker.sh"

if docker image inspect "$tag" >/dev/null 2>&1; then
  docker tag "$tag" "$repo:latest"
  echo "$repo:latest"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

rootfs=$(mktemp -d /var/tmp/lab-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

log "debootstrap bookworm into $rootfs (about a minute)"
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >/dev/null

# A container is not a booted machine: units that need real hardware or a console only fail.
for unit in getty@tty1.service console-getty.service systemd-udevd.service \
  systemd-udev-trigger.service systemd-remount-fs.service sys-kernel-config.mount \
  sys-kernel-debug.mount sys-kernel-tracing.mount; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
# systemd makes a fresh machine id on first boot when the file is empty.
: >"$rootfs/etc/machine-id"
# The package lists stay, as on a VM: `--check` cannot update them, so without them a dry run on
# a new host would find no package at all. Ansible's apt module refreshes them when they age.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb

log "importing as $tag"
tar -C "$rootfs" -c . | docker import \
  --change 'ENV container=docker' \
  --change 'CMD ["/lib/systemd/systemd"]' \
  - "$tag" >/dev/null
docker tag "$tag" "$repo:latest"
echo "$repo:latest"
