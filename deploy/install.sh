#!/usr/bin/env bash
# Installs edge-gateway on Raspberry Pi OS / Debian (arm64, armhf, amd64) as a systemd service.
#
#   sudo ./install.sh [PACKAGE.tar.gz] [--no-systemctl] [--no-start]
#
# PACKAGE.tar.gz is what `npm run package` builds; without it, the package this script was
# unpacked from is installed (tar -xzf edge-gateway-X.tar.gz && sudo edge-gateway-X/deploy/install.sh).
#
# What it does (see deploy/lib/common.sh for the layout):
#   1. checks Node.js >= 20.19 (installs the distribution's nodejs only when that is new enough);
#   2. creates the system user edge-gateway and the groups dialout, gpio, bluetooth if missing;
#   3. /opt/edge-gateway/releases/VERSION with `npm ci --omit=dev`, and the `current` symlink;
#   4. /etc/edge-gateway (root:edge-gateway 0750) with config.yaml from the example and an
#      environment file for secrets, both only when absent; /var/lib/edge-gateway (0750);
#   5. the systemd unit, the udev rule example (only when absent), /usr/local/bin/edge-gateway;
#   6. enables the service and starts it, unless the config was just created from the example
#      (it names example hosts and needs secrets: edit it, then `systemctl start edge-gateway`).
# An existing installation is left alone: use upgrade.sh.
#
# Options: --no-systemctl  do not call systemctl/udevadm (CI, images); same as SYSTEMCTL=: UDEVADM=:
#          --no-start      enable, but do not start
# Environment: DESTDIR (install into a staging root), SYSTEMCTL, UDEVADM, NPM, NODE.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

tarball=""
start=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-systemctl) SYSTEMCTL=: UDEVADM=: ;;
    --no-start) start=0 ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) tarball="$1" ;;
  esac
  shift
done

require_root
check_node
stage_package "$tarball"

if [ -L "$(r "$CURRENT_LINK")" ]; then
  die "edge-gateway $(current_version) is already installed; use upgrade.sh to install $VERSION"
fi
log "installing edge-gateway $VERSION${DESTDIR:+ into $DESTDIR}"

ensure_user
make_dir "$APP_DIR" 0755 root:root
make_dir "$RELEASES_DIR" 0755 root:root
make_dir "$CONF_DIR" 0750 "root:$SERVICE_USER"
make_dir "$STATE_DIR" 0750 "$SERVICE_USER:$SERVICE_USER"

deploy_release
switch_current "$VERSION"

fresh_config=0
if [ ! -e "$(r "$CONF_DIR/config.yaml")" ]; then
  put_file "$SRC_DIR/deploy/edge-gateway.example.yaml" "$CONF_DIR/config.yaml" 0640 "root:$SERVICE_USER"
  fresh_config=1
  log "created $CONF_DIR/config.yaml from the example"
else
  log "kept the existing $CONF_DIR/config.yaml"
fi
if [ ! -e "$(r "$CONF_DIR/environment")" ]; then
  envfile="$(mktemp)"
  cat >"$envfile" <<'EOF'
# Secrets for ${env:NAME} references in config.yaml, one NAME=value per line.
# Read by systemd when the service starts (EnvironmentFile=); keep this file root:root 0600.
#MQTT_PASSWORD=
#EVENTHUBS_CONNECTION_STRING=
EOF
  put_file "$envfile" "$CONF_DIR/environment" 0600 root:root
  rm -f "$envfile"
fi

install_unit "$VERSION"
if [ ! -e "$(r "$UDEV_RULE")" ]; then
  put_file "$SRC_DIR/deploy/udev/99-edge-gateway-serial.rules" "$UDEV_RULE" 0644 root:root
  udevadm_ control --reload-rules || warn "udevadm could not reload the rules; they apply after a reboot"
fi
mkdir -p "$(r "$(dirname "$BIN_LINK")")"
ln -sfn "$CURRENT_LINK/bin/edge-gateway.js" "$(r "$BIN_LINK")"

systemctl_ daemon-reload
systemctl_ enable "$SERVICE_NAME"
if [ "$start" -eq 0 ]; then
  log "installed and enabled; start it with: systemctl start $SERVICE_NAME"
elif [ "$fresh_config" -eq 1 ]; then
  log "installed and enabled, not started: $CONF_DIR/config.yaml is the example."
  log "  1. edit $CONF_DIR/config.yaml, and put secrets in $CONF_DIR/environment"
  log "  2. check it:  edge-gateway config check $CONF_DIR/config.yaml"
  log "  3. start it:  systemctl start $SERVICE_NAME   (logs: journalctl -u $SERVICE_NAME -f)"
else
  log "starting $SERVICE_NAME"
  restart_service
  wait_active || die "$SERVICE_NAME did not become active; see: journalctl -u $SERVICE_NAME -n 50"
  log "edge-gateway $VERSION is running"
fi
