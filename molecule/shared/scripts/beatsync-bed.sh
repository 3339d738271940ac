#!/usr/bin/env bash
# beatsync-bed: puts a BeatSync test host (a systemd container of the beatsync.ops test bed)
# into a known state. THE one implementation of the fixture deploy, the reset and every broken
# state: Molecule tasks (molecule/shared/tasks/*.yml) and the pytest helper
# (tests/systemd_hosts.py) both run this script inside the host as root.
#
#   beatsync-bed deploy          install the staged fixture app + canonical unit, enable, start,
#                                wait for /api/health; prints "beatsync-bed: changed=0|1"
#   beatsync-bed reset           undo every broken state below, then deploy
#   beatsync-bed break STATE     put the host into STATE and wait until its symptom shows
#   beatsync-bed states          list the STATEs
#
# Staged inputs (copied in by the caller): $BEATSYNC_BED_STAGE (default
# /usr/local/share/beatsync-fixture) holding main.py, requirements.txt, beatsync.service.
# Options of `break` (environment):
#   BEATSYNC_DRIFT=workdir|execstart       unit_drifted (default workdir)
#   BEATSYNC_MISSING=fastapi|uvicorn       crash_loop_missing_dependency (default fastapi)
#   BEATSYNC_FAULT_MODE=oneshot|persistent docs_503 / docs_hang (default oneshot) and
#                                          openapi_500 (default persistent)
#   BEATSYNC_STALE_FAULT=<fixture faults>  faults of the stale copy (default none)
set -euo pipefail
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

STAGE=${BEATSYNC_BED_STAGE:-/usr/local/share/beatsync-fixture}
APP=/opt/beatsync/web_service/backend
UNIT=/etc/systemd/system/beatsync.service
SERVICE=beatsync.service
PORT=8000
FAULTS_PERSISTENT=/etc/beatsync-fixture/faults
FAULTS_ONESHOT=/run/beatsync-fixture/faults
PIDS=/run/beatsync-fixture
STATES=(service_stopped unit_failed unit_missing unit_drifted crash_loop_missing_dependency
        syntax_error stale_copy foreign_listener docs_503 docs_hang openapi_500 ufw_blocking)

say() { echo "beatsync-bed: $*"; }
die() { echo "beatsync-bed: ERROR: $*" >&2; diagnostics >&2; exit 1; }
diagnostics() {
  echo "--- systemctl status"; systemctl status --no-pager -n 0 "$SERVICE" 2>&1 | head -15 || true
  echo "--- journal"; journalctl -u "$SERVICE" -n 15 --no-pager -o cat 2>&1 || true
  echo "--- listeners"; ss -Hltnp 2>&1 | head -10 || true
}

# http_code PATH [SECONDS] -> the status code, 000 when nothing answered in time
http_code() { curl -s -o /dev/null -m "${2:-5}" -w '%{http_code}' "http://127.0.0.1:$PORT$1" || true; }

# wait_for SECONDS WHAT CMD...: run CMD until it succeeds, at most SECONDS
wait_for() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${limit}s waiting for $what"
    sleep 0.2
  done
}
health_ok() { [ "$(http_code /api/health)" = 200 ]; }
listening() { ss -Hltn "sport = :${1:-$PORT}" | grep -q .; }
active_state() { systemctl show -p ActiveState --value "$SERVICE" 2>/dev/null || true; }
journal_since() { journalctl -u "$SERVICE" --since "@$1" --no-pager -o cat 2>/dev/null || true; }
journal_has() { journal_since "$1" | grep -Eq "$2"; }
unit_not_active() { [ "$(active_state)" != active ]; }
listener_pids() { ss -Hltnp "sport = :$PORT" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u; }

# detach DIR PIDFILE CMD...: start CMD in DIR, outside any unit, surviving this shell
detach() {
  local dir=$1 pidfile=$2; shift 2
  mkdir -p "$PIDS"
  (cd "$dir" && exec setsid "$@" </dev/null >>"/var/log/beatsync-bed-$(basename "$pidfile" .pid).log" 2>&1) &
  echo $! > "$pidfile"
}

install_file() {  # install_file SRC DEST: copy when different; sets changed=1
  [ -f "$1" ] || die "$1 is not staged"
  if ! cmp -s "$1" "$2"; then
    mkdir -p "$(dirname "$2")"
    install -m 0644 "$1" "$2"
    changed=1
  fi
}

cmd_deploy() {
  changed=0
  local unit_changed=0 before
  install_file "$STAGE/main.py" "$APP/main.py"
  install_file "$STAGE/requirements.txt" "$APP/requirements.txt"
  before=$changed; changed=0
  install_file "$STAGE/beatsync.service" "$UNIT"
  unit_changed=$changed; changed=$((before | unit_changed))
  if [ "$unit_changed" = 1 ] || ! systemctl cat "$SERVICE" >/dev/null 2>&1; then
    systemctl daemon-reload
  fi
  if ! systemctl is-enabled -q "$SERVICE"; then systemctl enable -q "$SERVICE"; changed=1; fi
  if [ "$changed" = 1 ] || ! systemctl is-active -q "$SERVICE"; then
    systemctl reset-failed "$SERVICE" 2>/dev/null || true
    systemctl restart "$SERVICE"; changed=1
  fi
  wait_for 40 "/api/health 200 after deploy" health_ok
  say "changed=$changed"
}

cmd_reset() {
  # SIGKILL first: a hung request (docs_hang) holds uvicorn's graceful stop for 90 s.
  systemctl kill --signal=SIGKILL "$SERVICE" 2>/dev/null || true
  systemctl stop "$SERVICE" 2>/dev/null || true
  # Stray copies and foreign listeners (ours by pid file, anyone else by the port).
  local pid
  for pid in $(cat "$PIDS"/*.pid 2>/dev/null) $(listener_pids); do
    kill "$pid" 2>/dev/null || true
  done
  rm -f "$PIDS"/*.pid
  wait_for 10 "port $PORT free" bash -c "! ss -Hltn 'sport = :$PORT' | grep -q ."
  rm -f "$FAULTS_PERSISTENT" "$FAULTS_ONESHOT"
  rm -rf "/etc/systemd/system/$SERVICE.d" "/run/systemd/system/$SERVICE.d"
  if ufw status 2>/dev/null | grep -q "Status: active" || [ -n "$(ls /etc/ufw/*.rules.20* 2>/dev/null)" ]; then
    # `ufw reset` stops the firewall only when ufw.conf says ENABLED=yes: with the chains loaded
    # and ENABLED=no written by hand, its rules would stay in force after the reset.
    sed -i 's/^ENABLED=.*/ENABLED=yes/' /etc/ufw/ufw.conf
    ufw --force reset >/dev/null
    rm -f /etc/ufw/*.rules.20* /etc/ufw/*.rules.*_20*
  fi
  ! iptables -L ufw-user-input -n >/dev/null 2>&1 || die "ufw's chains are still loaded after the reset"
  if ! /usr/bin/python3 -c 'import fastapi, uvicorn' 2>/dev/null; then
    /usr/bin/python3 -m pip install --quiet --root-user-action=ignore --break-system-packages \
      -r "$STAGE/requirements.txt"
  fi
  systemctl reset-failed "$SERVICE" 2>/dev/null || true
  # What beatsync.ops keeps on a host between runs: the restart budget, a lock left by a repair
  # stopped half-way, the operator's maintenance marker. A reset host has none of them.
  rm -rf /var/lib/beatsync-ops /run/beatsync-ops /etc/beatsync/maintenance
  cmd_deploy >/dev/null
  say "reset"
}

set_fault() {  # set_fault NAME DEFAULT_MODE
  local mode=${BEATSYNC_FAULT_MODE:-$2} file
  case "$mode" in
    oneshot) file=$FAULTS_ONESHOT ;;
    persistent) file=$FAULTS_PERSISTENT ;;
    *) die "BEATSYNC_FAULT_MODE must be oneshot or persistent, not $mode" ;;
  esac
  mkdir -p "$(dirname "$file")"
  echo "$1" > "$file"
  systemctl restart "$SERVICE"
  wait_for 40 "/api/health 200 with fault $1" health_ok
}

take_port() {  # take_port DIR NAME CMD...: stop the unit, hold 8000 with CMD, start the unit
  local dir=$1 name=$2 since; shift 2
  systemctl stop "$SERVICE"
  detach "$dir" "$PIDS/$name.pid" "$@"
  wait_for 30 "$name listening on $PORT" listening
  since=$(date +%s)
  systemctl start "$SERVICE"
  wait_for 30 "$SERVICE failing with address already in use" \
    journal_has "$since" "address already in use"
  wait_for 20 "$SERVICE out of active after the bind failure" unit_not_active
}

break_service_stopped() {
  systemctl stop "$SERVICE"
  wait_for 10 "$PORT closed" bash -c "! ss -Hltn 'sport = :$PORT' | grep -q ."
}

break_unit_failed() {
  # Start requests faster than the unit's start limit (5 in 10 s): systemd refuses the next
  # one and leaves the unit failed (Result=start-limit-hit), with nothing else wrong.
  systemctl reset-failed "$SERVICE" 2>/dev/null || true
  local _
  for _ in 1 2 3 4 5 6 7 8; do
    systemctl restart "$SERVICE" 2>/dev/null || break
  done
  wait_for 15 "$SERVICE failed" test "$(active_state)" = failed
}

break_unit_missing() {
  systemctl disable -q --now "$SERVICE"
  rm -f "$UNIT"
  systemctl daemon-reload
  systemctl reset-failed "$SERVICE" 2>/dev/null || true
  wait_for 10 "$SERVICE not loaded" bash -c \
    "test \"\$(systemctl show -p LoadState --value $SERVICE)\" = not-found"
}

break_unit_drifted() {
  local since
  case "${BEATSYNC_DRIFT:-workdir}" in
    workdir) sed -i 's|^WorkingDirectory=.*|WorkingDirectory=/opt/beatsync/web_service|' "$UNIT" ;;
    execstart) sed -i 's|^ExecStart=.*|ExecStart=/usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port 8080|' "$UNIT" ;;
    *) die "BEATSYNC_DRIFT must be workdir or execstart" ;;
  esac
  systemctl daemon-reload
  since=$(date +%s)
  systemctl restart "$SERVICE"
  if [ "${BEATSYNC_DRIFT:-workdir}" = workdir ]; then
    wait_for 30 "$SERVICE failing to import main" journal_has "$since" "Could not import module|No module named 'main'"
  else
    wait_for 30 "drifted unit listening on 8080" listening 8080
  fi
}

break_crash_loop_missing_dependency() {
  local pkg=${BEATSYNC_MISSING:-fastapi} since
  /usr/bin/python3 -m pip uninstall --quiet --yes --root-user-action=ignore --break-system-packages "$pkg"
  since=$(date +%s)
  systemctl restart "$SERVICE"
  wait_for 30 "$SERVICE crashing on the missing $pkg" journal_has "$since" "No module named '?$pkg"
}

break_syntax_error() {
  local since
  printf '\n\ndef broken(:\n    pass\n' >> "$APP/main.py"
  since=$(date +%s)
  systemctl restart "$SERVICE"
  wait_for 30 "$SERVICE crashing on the SyntaxError" journal_has "$since" "SyntaxError"
}

break_stale_copy() {
  take_port "$APP" stale env "BEATSYNC_FAULT=${BEATSYNC_STALE_FAULT:-}" \
    /usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port "$PORT"
  wait_for 20 "the stale copy answering /api/health" health_ok
}

break_foreign_listener() {
  mkdir -p /srv
  take_port /srv foreign /usr/bin/python3 -m http.server "$PORT"
}

break_docs_503() {
  set_fault docs_503 oneshot
  wait_for 10 "/docs 503" test "$(http_code /docs)" = 503
}

break_docs_hang() {
  set_fault docs_hang oneshot
  wait_for 10 "/docs hanging" test "$(http_code /docs 2)" = 000
}

break_openapi_500() {
  set_fault openapi_500 persistent
  wait_for 10 "/openapi.json 500" test "$(http_code /openapi.json)" = 500
}

break_ufw_blocking() {
  ufw --force reset >/dev/null
  rm -f /etc/ufw/*.rules.20* /etc/ufw/*.rules.*_20*
  ufw default deny incoming >/dev/null
  ufw default allow outgoing >/dev/null
  ufw allow 22/tcp >/dev/null
  ufw --force enable >/dev/null
  ufw status | grep -q "Status: active" || die "ufw did not become active"
}

case "${1:-}" in
  deploy) cmd_deploy ;;
  reset) cmd_reset ;;
  states) printf '%s\n' "${STATES[@]}" ;;
  break)
    state=${2:-}
    [[ " ${STATES[*]} " == *" $state "* ]] || die "unknown state '$state' (one of: ${STATES[*]})"
    "break_$state"
    say "broke $state"
    ;;
  *) sed -n '2,25p' "$0"; exit 2 ;;
esac
