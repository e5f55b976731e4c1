#!/usr/bin/env bash
# Removes edge-gateway: stops and disables the service, removes the application and the unit.
#
#   sudo ./uninstall.sh [--purge] [--no-systemctl]
#
# Kept unless --purge: /etc/edge-gateway (config, secrets), /var/lib/edge-gateway (the queue:
# events not yet confirmed by the uplinks), the udev rules and the edge-gateway user. --purge
# removes those too (the groups dialout, gpio, bluetooth stay: other software uses them).
#
# Environment: DESTDIR, SYSTEMCTL, UDEVADM (see deploy/lib/common.sh).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

purge=0
while [ $# -gt 0 ]; do
  case "$1" in
    --purge) purge=1 ;;
    --no-systemctl) SYSTEMCTL=: UDEVADM=: ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

require_root
systemctl_ disable --now "$SERVICE_NAME" || warn "could not stop/disable $SERVICE_NAME (not installed?)"
rm -f "$(r "$UNIT_DIR/$UNIT_FILE")"
rm -rf "$(r "$UNIT_DIR/$UNIT_FILE.d")"
# `systemctl enable` links; remove them in case systemctl was not available to disable.
rm -f "$(r "$UNIT_DIR/multi-user.target.wants/$UNIT_FILE")"
systemctl_ daemon-reload || true
systemctl_ reset-failed "$SERVICE_NAME" 2>/dev/null || true
rm -f "$(r "$BIN_LINK")"
rm -rf "$(r "$APP_DIR")"
log "removed the service and $APP_DIR"

if [ "$purge" -eq 1 ]; then
  rm -rf "$(r "$CONF_DIR")" "$(r "$STATE_DIR")"
  if [ -e "$(r "$UDEV_RULE")" ]; then
    rm -f "$(r "$UDEV_RULE")"
    udevadm_ control --reload-rules || true
  fi
  remove_user
  log "purged $CONF_DIR, $STATE_DIR (queued events), the udev rules and the $SERVICE_USER user"
else
  log "kept $CONF_DIR and $STATE_DIR (queued events), the udev rules and the $SERVICE_USER user; --purge removes them"
fi
