#!/usr/bin/env bash
# Upgrades an installed edge-gateway to another release, and rolls back if it does not come up.
#
#   sudo ./upgrade.sh [PACKAGE.tar.gz] [--no-systemctl] [--timeout SECONDS]
#
# PACKAGE.tar.gz is what `npm run package` builds; without it, the package this script was
# unpacked from is installed.
#
#   1. unpacks the release to /opt/edge-gateway/releases/VERSION and runs `npm ci --omit=dev`
#      there, while the old release keeps running;
#   2. installs the release's unit file, switches the `current` symlink, restarts the service;
#   3. waits (default 90 s) until the service is active: with Type=notify that means it sent
#      READY=1 (store open, uplinks started);
#   4. if it does not become active: stops it, moves the queue's keys back to the store key
#      layout older releases read (`edge-gateway store-layout 1`), switches `current` back,
#      restores the previous unit, restarts the previous release, and exits 1 (2 if the previous
#      release fails too).
# The config (/etc/edge-gateway) and the queue (/var/lib/edge-gateway) are never touched: queued
# events are sent by whichever release runs. The newest three releases are kept for rollbacks.
#
# Environment: DESTDIR, SYSTEMCTL, UDEVADM, NPM, NODE, READY_TIMEOUT (see deploy/lib/common.sh).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

tarball=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-systemctl) SYSTEMCTL=: UDEVADM=: ;;
    --timeout) READY_TIMEOUT="${2:?--timeout needs seconds}"; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) tarball="$1" ;;
  esac
  shift
done

require_root
previous="$(current_version)"
[ -n "$previous" ] && [ -d "$(r "$RELEASES_DIR/$previous")" ] ||
  die "edge-gateway is not installed (no $CURRENT_LINK); use install.sh"
check_node
stage_package "$tarball"
[ "$VERSION" != "$previous" ] || die "edge-gateway $VERSION is already the current release"
log "upgrading edge-gateway $previous -> $VERSION${DESTDIR:+ in $DESTDIR}"

# Groups and directories may be new in this release's unit; both steps are idempotent.
ensure_user
make_dir "$STATE_DIR" 0750 "$SERVICE_USER:$SERVICE_USER"
deploy_release

# start_release VERSION: make it current with its own unit, restart, wait for READY.
start_release() {
  install_unit "$1"
  switch_current "$1"
  systemctl_ daemon-reload
  restart_service
  wait_active
}

if start_release "$VERSION"; then
  log "edge-gateway $VERSION is active"
  # Prune: keep the three newest releases, and never the current or the previous one.
  keep=0
  for dir in $(ls -1t "$(r "$RELEASES_DIR")"); do
    case "$dir" in *.partial) continue ;; esac
    keep=$((keep + 1))
    if [ "$keep" -gt 3 ] && [ "$dir" != "$VERSION" ] && [ "$dir" != "$previous" ]; then
      log "removing old release $dir"
      rm -rf "$(r "$RELEASES_DIR/$dir")"
    fi
  done
  exit 0
fi

warn "edge-gateway $VERSION did not become active within ${READY_TIMEOUT}s; rolling back to $previous"
warn "  (its logs: journalctl -u $SERVICE_NAME -n 100; the release stays in $RELEASES_DIR/$VERSION)"
stop_service
restore_store_layout "$VERSION"
if start_release "$previous"; then
  warn "rolled back: edge-gateway $previous is active again"
  exit 1
fi
printf '%s: error: the rollback to %s did not become active either; see journalctl -u %s\n' "$PROG" "$previous" "$SERVICE_NAME" >&2
exit 2
