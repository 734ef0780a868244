#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine.
# Fresh build machines ship only the docker client: install Debian's docker.io and start
# dockerd in the background when no daemon answers. Does nothing when one already does.
set -euo pipefail

log() { printf 'ensure-docker: %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "no Docker engine answers and dockerd is not installed."
    log "Install Docker (Debian: apt-get install docker.io) and start it, then re-run."
    exit 1
  fi
  log "installing docker.io from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  log "starting docker.service"
  systemctl start docker
else
  if [ "$(id -u)" -ne 0 ]; then
    log "dockerd is installed but not running, and only root can start it here."
    exit 1
  fi
  log "starting dockerd in the background (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
fi

# Wait for the daemon to answer (bounded), rather than sleeping a fixed time.
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "Docker engine is up"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within 60 s; see /var/log/dockerd.log"
exit 1
