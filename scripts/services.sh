#!/usr/bin/env bash
# The real services the integration tests use: dockerd, and two local
# registries (Debian's docker-registry, i.e. CNCF distribution 2.8) on
# 127.0.0.1, one plain and one with htpasswd (bcrypt) basic auth.
#
# As a command (developers):
#   eval "$(scripts/services.sh start)"   # start what is not running, print the exports
#   npm test
#   scripts/services.sh stop              # stop what `start` started (by PID), nothing else
#   scripts/services.sh env               # print the exports again
# State (configs, logs, storage, PIDs) lives in $VOUCH_SERVICES_DIR
# (default ${TMPDIR:-/tmp}/vouch-services). Needs: docker.io docker-registry apache2-utils.
#
# As a library (.ci/run): `source scripts/services.sh`, then vouch_services_start
# (exports the variables into the calling shell) and vouch_services_stop.
#
# Exports: VOUCH_TEST_REGISTRY=127.0.0.1:PORT  VOUCH_TEST_REGISTRY_AUTH=127.0.0.1:PORT
#          VOUCH_TEST_REGISTRY_USER  VOUCH_TEST_REGISTRY_PASSWORD  VOUCH_TEST_DOCKER=1

VOUCH_SERVICES_DIR="${VOUCH_SERVICES_DIR:-${TMPDIR:-/tmp}/vouch-services}"

vouch_log() { printf 'services: %s\n' "$*" >&2; }

# True when nothing accepts connections on 127.0.0.1:$1.
vouch_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# First free port at or above $1.
vouch_pick_port() {
  local p=$1
  while ! vouch_port_free "$p"; do
    p=$((p + 1))
    if [ "$p" -gt $(($1 + 200)) ]; then vouch_log "no free port near $1"; return 1; fi
  done
  echo "$p"
}

# HTTP status of GET http://$1$2 (no curl needed), or nothing.
vouch_http_status() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n" "$2" "$1" >&3
    IFS=" " read -r _ status _ <&3 && echo "$status"' _ "$1" "$2" 2>/dev/null || true
}

# Record a PID we started, with its command name (checked again before killing).
vouch_record_pid() { echo "$1 $2" >>"$VOUCH_SERVICES_DIR/pids"; }

vouch_docker_answers() { timeout 10 docker info >/dev/null 2>&1; }

# Start dockerd unless a daemon already answers; wait (bounded) until `docker info` works.
vouch_start_dockerd() {
  mkdir -p "$VOUCH_SERVICES_DIR"
  if vouch_docker_answers; then
    vouch_log "dockerd already running: reusing it"
    return 0
  fi
  local dockerd log pid i
  dockerd=$(command -v dockerd || echo /usr/sbin/dockerd)
  [ -x "$dockerd" ] || { vouch_log "dockerd not installed (apt-get install docker.io)"; return 1; }
  log="$VOUCH_SERVICES_DIR/dockerd.log"
  "$dockerd" >"$log" 2>&1 </dev/null &
  pid=$!
  vouch_record_pid "$pid" dockerd
  for i in $(seq 1 120); do
    if vouch_docker_answers; then
      vouch_log "dockerd started (pid $pid, log $log)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      vouch_log "dockerd exited; last lines of $log:"; tail -n 30 "$log" >&2; return 1
    fi
    sleep 0.5
  done
  vouch_log "dockerd did not answer within 60 s; last lines of $log:"; tail -n 30 "$log" >&2
  return 1
}

# vouch_start_registry NAME PORT [HTPASSWD_FILE]: docker-registry on 127.0.0.1:PORT.
vouch_start_registry() {
  local name=$1 port=$2 htpasswd=${3:-} dir="$VOUCH_SERVICES_DIR/registry-$1" registry pid i status
  registry=$(command -v docker-registry || echo /usr/bin/docker-registry)
  [ -x "$registry" ] || { vouch_log "docker-registry not installed (apt-get install docker-registry)"; return 1; }
  mkdir -p "$dir/storage"
  {
    echo "version: 0.1"
    echo "log:"
    echo "  level: warn"
    echo "  accesslog:"
    echo "    disabled: true"
    echo "storage:"
    echo "  filesystem:"
    echo "    rootdirectory: $dir/storage"
    echo "  delete:"
    echo "    enabled: true"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    if [ -n "$htpasswd" ]; then
      echo "auth:"
      echo "  htpasswd:"
      echo "    realm: vouch-test"
      echo "    path: $htpasswd"
    fi
  } >"$dir/config.yml"
  "$registry" serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
  pid=$!
  vouch_record_pid "$pid" docker-registry
  for i in $(seq 1 100); do
    status=$(vouch_http_status "127.0.0.1:$port" /v2/)
    if [ "$status" = 200 ] || [ "$status" = 401 ]; then
      vouch_log "registry $name on 127.0.0.1:$port (pid $pid, /v2/ answers $status)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  vouch_log "registry $name did not answer on 127.0.0.1:$port; log:"; tail -n 20 "$dir/registry.log" >&2
  return 1
}

# Start everything and export the variables into the current shell (and $VOUCH_SERVICES_DIR/env).
vouch_services_start() {
  mkdir -p "$VOUCH_SERVICES_DIR"
  chmod 700 "$VOUCH_SERVICES_DIR"
  vouch_start_dockerd
  command -v htpasswd >/dev/null || { vouch_log "htpasswd not installed (apt-get install apache2-utils)"; return 1; }
  local plain auth user=vouch password
  password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  htpasswd -Bbn "$user" "$password" >"$VOUCH_SERVICES_DIR/htpasswd"
  chmod 600 "$VOUCH_SERVICES_DIR/htpasswd"
  plain=$(vouch_pick_port 5000)
  vouch_start_registry plain "$plain"
  auth=$(vouch_pick_port $((plain + 1)))
  vouch_start_registry auth "$auth" "$VOUCH_SERVICES_DIR/htpasswd"
  export VOUCH_TEST_REGISTRY="127.0.0.1:$plain"
  export VOUCH_TEST_REGISTRY_AUTH="127.0.0.1:$auth"
  export VOUCH_TEST_REGISTRY_USER="$user"
  export VOUCH_TEST_REGISTRY_PASSWORD="$password"
  export VOUCH_TEST_DOCKER=1
  local v
  : >"$VOUCH_SERVICES_DIR/env"
  chmod 600 "$VOUCH_SERVICES_DIR/env"
  for v in VOUCH_TEST_REGISTRY VOUCH_TEST_REGISTRY_AUTH VOUCH_TEST_REGISTRY_USER VOUCH_TEST_REGISTRY_PASSWORD VOUCH_TEST_DOCKER; do
    printf 'export %s=%q\n' "$v" "${!v}" >>"$VOUCH_SERVICES_DIR/env"
  done
}

# Stop, by PID, what vouch_services_start started (registries first, dockerd last).
vouch_services_stop() {
  local f="$VOUCH_SERVICES_DIR/pids" pid comm i
  [ -f "$f" ] || return 0
  tac "$f" | while read -r pid comm; do
    [ -n "$pid" ] || continue
    if kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ]; then
      kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      if kill -0 "$pid" 2>/dev/null; then
        vouch_log "$comm (pid $pid) ignored SIGTERM for 20 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
      vouch_log "stopped $comm (pid $pid)"
    fi
  done
  rm -f "$f"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    start)
      if [ -s "$VOUCH_SERVICES_DIR/pids" ]; then
        vouch_log "$VOUCH_SERVICES_DIR/pids exists: already started? run '$0 stop' first"
        exit 1
      fi
      vouch_services_start
      cat "$VOUCH_SERVICES_DIR/env"
      ;;
    stop) vouch_services_stop ;;
    env) cat "$VOUCH_SERVICES_DIR/env" ;;
    *)
      echo "usage: eval \"\$($0 start)\" | $0 stop | $0 env" >&2
      exit 2
      ;;
  esac
fi
