# shellcheck shell=bash
# Shared by install.sh, upgrade.sh and uninstall.sh. Sourced, not executed.
#
# Layout on the device (every path below is prefixed with $DESTDIR):
#   /opt/edge-gateway/releases/VERSION/   one directory per installed release (root-owned, read-only
#                                         for the service), with production node_modules
#   /opt/edge-gateway/current             symlink to releases/VERSION: what the unit runs
#   /etc/edge-gateway/config.yaml         root:edge-gateway 0640, never overwritten
#   /etc/edge-gateway/environment         root:root 0600, secrets for ${env:NAME}, never overwritten
#   /var/lib/edge-gateway/                edge-gateway:edge-gateway 0750, the durable queue
#   /etc/systemd/system/edge-gateway.service   from the current release
#   /etc/udev/rules.d/99-edge-gateway-serial.rules   example rules, never overwritten
#   /usr/local/bin/edge-gateway           symlink to the current release's CLI
#
# Test and CI hooks (environment):
#   DESTDIR=/tmp/root   install into a temporary root; systemctl and udevadm are then not called
#                       unless SYSTEMCTL / UDEVADM name a command explicitly
#   SYSTEMCTL=:         do not call systemctl (same as --no-systemctl); or a fake systemctl
#   UDEVADM=:           do not call udevadm; NPM=...  npm replacement; NODE=...  node to check
#   READY_TIMEOUT=90    seconds upgrade.sh waits for the service to become active
# With DESTDIR, users and groups go to $DESTDIR/etc/passwd and group (useradd --prefix), never to
# this machine's. Root-only commands (groupadd, useradd, userdel, groupdel, chown) are looked up in
# PATH, so a test that does not run as root can put fakes first.

set -euo pipefail

readonly SERVICE_NAME=edge-gateway
readonly SERVICE_USER=edge-gateway
readonly SERVICE_GROUPS="dialout gpio bluetooth"
readonly UNIT_FILE=edge-gateway.service
readonly MIN_NODE=20.19.0

DESTDIR="${DESTDIR:-}"
DESTDIR="${DESTDIR%/}"
readonly APP_DIR=/opt/edge-gateway
readonly RELEASES_DIR=$APP_DIR/releases
readonly CURRENT_LINK=$APP_DIR/current
readonly CONF_DIR=/etc/edge-gateway
readonly STATE_DIR=/var/lib/edge-gateway
readonly UNIT_DIR=/etc/systemd/system
readonly UDEV_RULE=/etc/udev/rules.d/99-edge-gateway-serial.rules
readonly BIN_LINK=/usr/local/bin/edge-gateway

NPM="${NPM:-npm}"
NODE="${NODE:-node}"
READY_TIMEOUT="${READY_TIMEOUT:-90}"
if [ -n "$DESTDIR" ]; then
  # A temporary root must never start or reload anything on the machine running the script.
  SYSTEMCTL="${SYSTEMCTL-:}"
  UDEVADM="${UDEVADM-:}"
else
  SYSTEMCTL="${SYSTEMCTL-systemctl}"
  UDEVADM="${UDEVADM-udevadm}"
fi

PROG="$(basename "$0")"

log() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}
# --help of every script: its header comment (line 2 up to `set -euo`), so the help text and the
# script's own documentation cannot drift apart.
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

# The path as seen by this script: under $DESTDIR.
r() { printf '%s%s' "$DESTDIR" "$1"; }

# Word splitting is intended: SYSTEMCTL may be ":" or "systemctl --quiet".
systemctl_() { $SYSTEMCTL "$@"; }
udevadm_() { $UDEVADM "$@"; }
no_systemctl() { [ "$SYSTEMCTL" = ":" ]; }

require_root() {
  if [ -z "$DESTDIR" ] && [ "$(id -u)" -ne 0 ]; then
    die "must run as root (or with DESTDIR=/some/dir for a staged install)"
  fi
}

# version_ge A B: true when version A >= B (dotted numbers; a leading "v" is ignored).
version_ge() {
  local a="${1#v}" b="${2#v}"
  [ "$(printf '%s\n%s\n' "$b" "$a" | sort -V | head -n1)" = "$b" ]
}

# Node >= 20.19 must be there. On a real root, the distro's nodejs is installed when it is new
# enough (Debian 13 and later); older distros (Debian 12 ships 18.19) need NodeSource or similar,
# which this script does not add: it stops with instructions instead.
check_node() {
  local have=""
  if command -v "$NODE" >/dev/null 2>&1; then have="$("$NODE" -p 'process.versions.node' 2>/dev/null || true)"; fi
  if [ -n "$have" ] && version_ge "$have" "$MIN_NODE"; then
    log "node $have ($(command -v "$NODE")) is new enough (>= $MIN_NODE)"
    return 0
  fi
  if [ -z "$DESTDIR" ] && command -v apt-cache >/dev/null 2>&1; then
    local candidate
    candidate="$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ { print $2 }' | sed -E 's/^[0-9]+://; s/[~+-].*$//')"
    if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && version_ge "$candidate" "$MIN_NODE"; then
      log "installing nodejs $candidate from the distribution (apt-get install nodejs npm)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
      have="$("$NODE" -p 'process.versions.node')"
      version_ge "$have" "$MIN_NODE" && return 0
    fi
  fi
  die "Node.js >= $MIN_NODE is required, found ${have:-none}.
  The distribution's nodejs package is missing or too old (Debian 12 / Raspberry Pi OS bookworm ship 18.x).
  Install Node.js $MIN_NODE or newer (e.g. from https://github.com/nodesource/distributions, or Debian 13's nodejs)
  so that 'node' is on PATH, then run $PROG again."
}

# Users and groups. On the real root: getent, groupadd, useradd. With DESTDIR: the staging root's
# own /etc/passwd and /etc/group (useradd --prefix), never the database of the machine running the
# script; owners are then given to chown as numbers from that database.
has_entry() { # has_entry passwd|group NAME
  if [ -n "$DESTDIR" ]; then
    grep -q "^$2:" "$DESTDIR/etc/$1"
  else
    getent "$1" "$2" >/dev/null 2>&1
  fi
}
prefix_opt() { if [ -n "$DESTDIR" ]; then printf '%s\n' --prefix "$DESTDIR"; fi; }

check_user_db() {
  if [ -n "$DESTDIR" ] && { [ ! -f "$DESTDIR/etc/passwd" ] || [ ! -f "$DESTDIR/etc/group" ]; }; then
    die "$DESTDIR/etc/passwd and $DESTDIR/etc/group are missing: a staging root needs the target's user database"
  fi
}

# ensure_group NAME: create a system group when it does not exist (Debian has no "gpio" group;
# "bluetooth" exists only with bluez). A SupplementaryGroups= entry that does not exist fails the
# service start.
ensure_group() {
  if ! has_entry group "$1"; then
    log "creating system group $1"
    # shellcheck disable=SC2046  # prefix_opt is zero or two words
    groupadd $(prefix_opt) --system "$1"
  fi
}

ensure_user() {
  check_user_db
  ensure_group "$SERVICE_USER"
  if ! has_entry passwd "$SERVICE_USER"; then
    log "creating system user $SERVICE_USER"
    # shellcheck disable=SC2046
    useradd $(prefix_opt) --system --gid "$SERVICE_USER" --home-dir "$STATE_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "edge-gateway telemetry gateway" "$SERVICE_USER"
  fi
  local g
  for g in $SERVICE_GROUPS; do ensure_group "$g"; done
}

remove_user() {
  # shellcheck disable=SC2046
  if has_entry passwd "$SERVICE_USER"; then userdel $(prefix_opt) "$SERVICE_USER"; fi
  # shellcheck disable=SC2046
  if has_entry group "$SERVICE_USER"; then groupdel $(prefix_opt) "$SERVICE_USER" || true; fi
}

# owner USER:GROUP as chown should get it: names on the real root, numbers from the staging
# root's database with DESTDIR (the names may not exist on this machine, or mean other ids).
owner() {
  [ -n "$DESTDIR" ] || { printf '%s' "$1"; return; }
  local uid gid
  uid="$(awk -F: -v n="${1%%:*}" '$1 == n { print $3 }' "$DESTDIR/etc/passwd")"
  gid="$(awk -F: -v n="${1##*:}" '$1 == n { print $3 }' "$DESTDIR/etc/group")"
  [ -n "$uid" ] && [ -n "$gid" ] || die "no user/group $1 in $DESTDIR/etc/passwd, $DESTDIR/etc/group"
  printf '%s:%s' "$uid" "$gid"
}

# make_dir PATH MODE OWNER:GROUP
make_dir() {
  local o
  o="$(owner "$3")" # separate assignment: a failed lookup stops the script (set -e)
  mkdir -p "$(r "$1")"
  chmod "$2" "$(r "$1")"
  chown "$o" "$(r "$1")"
}

# put_file SRC DST MODE OWNER:GROUP (replaces DST atomically, with its final owner and mode)
put_file() {
  local o
  o="$(owner "$4")"
  mkdir -p "$(dirname "$(r "$2")")"
  cp "$1" "$(r "$2").new"
  chmod "$3" "$(r "$2").new"
  chown "$o" "$(r "$2").new"
  mv -f "$(r "$2").new" "$(r "$2")"
}

# Where the package to install comes from: a tarball given on the command line, or the package
# this script was unpacked from. Sets SRC_DIR and VERSION; a temporary directory is removed on exit.
stage_package() {
  local tarball="${1:-}" tmp
  if [ -n "$tarball" ]; then
    [ -f "$tarball" ] || die "no such package: $tarball"
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/edge-gateway-pkg.XXXXXX")"
    # shellcheck disable=SC2064  # expand now: the trap must remove this directory
    trap "rm -rf '$tmp'" EXIT
    tar -xzf "$tarball" -C "$tmp" --no-same-owner
    SRC_DIR="$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)"
  else
    SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  fi
  [ -f "$SRC_DIR/package.json" ] && [ -f "$SRC_DIR/dist/gateway/cli/main.js" ] && [ -f "$SRC_DIR/systemd/$UNIT_FILE" ] ||
    die "$SRC_DIR is not an edge-gateway package (build one with: npm run package)"
  VERSION="$("$NODE" -p 'require(process.argv[1]).version' "$SRC_DIR/package.json" 2>/dev/null || true)"
  [[ "$VERSION" =~ ^[0-9A-Za-z][0-9A-Za-z.+_-]*$ ]] || die "cannot read a valid version from $SRC_DIR/package.json"
}

# deploy_release: copy the package to releases/VERSION with production dependencies. Built in a
# .partial directory and renamed at the end, so a half-done release is never run.
deploy_release() {
  local dst part o
  o="$(owner root:root)"
  dst="$(r "$RELEASES_DIR/$VERSION")"
  part="$dst.partial"
  rm -rf "$part"
  mkdir -p "$part"
  local item
  for item in bin dist systemd deploy package.json package-lock.json README.md; do
    if [ -e "$SRC_DIR/$item" ]; then cp -R "$SRC_DIR/$item" "$part/"; fi
  done
  log "installing production dependencies in $RELEASES_DIR/$VERSION (npm ci --omit=dev)"
  (cd "$part" && $NPM ci --omit=dev --no-audit --no-fund) || die "npm ci failed in $part"
  chown -R "$o" "$part"
  chmod -R u+rwX,go+rX,go-w "$part"
  rm -rf "$dst"
  mv "$part" "$dst"
}

# The version `current` points to, or nothing.
current_version() {
  local target
  target="$(readlink "$(r "$CURRENT_LINK")" 2>/dev/null || true)"
  [ -n "$target" ] && basename "$target"
  return 0
}

# switch_current VERSION: atomically repoint `current` (rename over the old link).
switch_current() {
  ln -sfn "releases/$1" "$(r "$CURRENT_LINK").new"
  mv -Tf "$(r "$CURRENT_LINK").new" "$(r "$CURRENT_LINK")"
  log "current -> releases/$1"
}

# install_unit VERSION: the unit from that release; a drop-in when node is not /usr/bin/node.
install_unit() {
  put_file "$(r "$RELEASES_DIR/$1/systemd/$UNIT_FILE")" "$UNIT_DIR/$UNIT_FILE" 0644 root:root
  local dropin="$UNIT_DIR/$UNIT_FILE.d/10-node-path.conf" node_path
  node_path="$(command -v "$NODE" || true)"
  if [ ! -x /usr/bin/node ] && [ -n "$node_path" ]; then
    mkdir -p "$(r "$(dirname "$dropin")")"
    printf '# Written by %s: node is not at /usr/bin/node on this machine.\n[Service]\nExecStart=\nExecStart=%s %s/bin/edge-gateway.js run --config %s/config.yaml\n' \
      "$PROG" "$node_path" "$CURRENT_LINK" "$CONF_DIR" >"$(r "$dropin")"
    chmod 0644 "$(r "$dropin")"
  fi
}

# restart_service: for Type=notify, `systemctl restart` returns once READY=1 arrived or the start
# failed; bounded by READY_TIMEOUT (the job goes on in systemd, wait_active then sees it).
restart_service() {
  no_systemctl && return 0
  timeout "$READY_TIMEOUT" $SYSTEMCTL restart "$SERVICE_NAME" || true
}

# stop_service: stops the unit (a release that did not come up may still be starting or restarting).
stop_service() {
  no_systemctl && return 0
  timeout "$READY_TIMEOUT" $SYSTEMCTL stop "$SERVICE_NAME" || true
}

# restore_store_layout VERSION: before rolling back from VERSION, with the service stopped. Since
# store key layout 2, a release moves the queue's counter and meta keys to it when it starts;
# releases before it would not find them there (their CloudEvent sequence numbers would start
# again at 1). VERSION's own CLI moves them back (a release that reads layout 2 moves them forward
# again at its start). A release without the command predates layout 2: it moved nothing. One
# with it whose CLI fails gets a warning, not silence.
restore_store_layout() {
  local cli
  cli="$(r "$RELEASES_DIR/$1/bin/edge-gateway.js")"
  [ -f "$(r "$RELEASES_DIR/$1/dist/gateway/cli/commands/store-layout.js")" ] || return 0
  # From the state directory, the unit's working directory, in case gateway.dataDir is relative.
  (cd "$(r "$STATE_DIR")" && "$NODE" "$cli" store-layout 1 --config "$(r "$CONF_DIR/config.yaml")" ${DESTDIR:+--root "$DESTDIR"}) ||
    warn "could not move the queue back to store key layout 1: a release before layout 2 starts its sequence numbers again at 1"
}

# wait_active: after a (re)start, true when the unit is active within READY_TIMEOUT seconds. For
# Type=notify "active" means READY=1 arrived; "failed"/"inactive" or the timeout mean it did not.
wait_active() {
  no_systemctl && return 0
  local deadline=$((SECONDS + READY_TIMEOUT)) state
  while :; do
    state="$(systemctl_ is-active "$SERVICE_NAME" 2>/dev/null || true)"
    case "$state" in
      active) return 0 ;;
      failed | inactive) return 1 ;;
    esac
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 1
  done
}
