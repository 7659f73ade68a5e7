#!/usr/bin/env bash
# A real cluster on this machine (docs/deploy.md, A cluster on one machine):
# nginx (Debian's package) in front of three workers sharing PostgreSQL and
# Redis, with deploy/nginx.conf and the settings and commands of
# docs/deploy.md. Everything listens on 127.0.0.1.
#
#   deploy/cluster.sh up       start whatever is not running (make cluster), and
#                              one job worker (manage.py worker: email and push)
#   deploy/cluster.sh status   every process, and /healthz of each worker and through nginx
#   deploy/cluster.sh restart  rolling restart: SIGTERM one worker, start it again, wait
#                              until it is healthy, then the next (nginx routes to the others)
#   deploy/cluster.sh down     stop nginx and the workers (make cluster-down)
#
# Settings, from the environment (`up` remembers them in the work directory):
#   ROOMS_CLUSTER_DIR           work directory: pids, logs, nginx's config and
#                               temp files (default /tmp/rooms-cluster)
#   ROOMS_CLUSTER_PORT          nginx's port (8080)
#   ROOMS_CLUSTER_WORKERS       the workers' ports ("8101 8102 8103")
#   ROOMS_CLUSTER_SERVER        uvicorn (default) or daphne
#   ROOMS_CLUSTER_DATABASE_URL  its own database, created if missing
#                               (postgres://postgres@127.0.0.1:5432/rooms_cluster)
#   ROOMS_CLUSTER_REDIS_URL     its own Redis database (redis://127.0.0.1:6379/12),
#                               its keys prefixed with ROOMS_REDIS_PREFIX (rooms-cluster)
#   ROOMS_CLUSTER_SEED          1 (default): seeddemo's users and rooms; 0: none
#   ROOMS_CLUSTER_NGINX         the nginx binary (nginx on PATH, or /usr/sbin/nginx)
# Any other ROOMS_* setting (ROOMS_SHUTDOWN_TIMEOUT, ROOMS_RATE_LIMIT, …)
# reaches the workers as it is. The system's nginx configuration is never read
# or changed: nginx runs with `-p` and `-c` on files of the work directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${ROOMS_CLUSTER_DIR:-/tmp/rooms-cluster}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
SAVED="$DIR/cluster.env"
# A setting given now wins; otherwise what `up` saved; otherwise the default.
if [[ -f "$SAVED" ]]; then
  # shellcheck source=/dev/null
  source "$SAVED"
fi
PORT="${ROOMS_CLUSTER_PORT:-8080}"
WORKERS="${ROOMS_CLUSTER_WORKERS:-8101 8102 8103}"
SERVER="${ROOMS_CLUSTER_SERVER:-uvicorn}"
DATABASE="${ROOMS_CLUSTER_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/rooms_cluster}"
REDIS="${ROOMS_CLUSTER_REDIS_URL:-redis://127.0.0.1:6379/12}"
PREFIX="${ROOMS_REDIS_PREFIX:-rooms-cluster}"
SEED="${ROOMS_CLUSTER_SEED:-1}"
SHUTDOWN_TIMEOUT="${ROOMS_SHUTDOWN_TIMEOUT:-10}"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
# (Not $NGINX: nginx reads that variable itself, for inherited sockets.)
NGINX="${ROOMS_CLUSTER_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
NGINX_DIR="$DIR/nginx"

log() { printf '%s\n' "$*" >&2; }
die() { log "cluster: $*"; exit 1; }

save_settings() {
  cat >"$SAVED" <<EOF
: "\${ROOMS_CLUSTER_PORT:=$PORT}"
: "\${ROOMS_CLUSTER_WORKERS:=$WORKERS}"
: "\${ROOMS_CLUSTER_SERVER:=$SERVER}"
: "\${ROOMS_CLUSTER_DATABASE_URL:=$DATABASE}"
: "\${ROOMS_CLUSTER_REDIS_URL:=$REDIS}"
: "\${ROOMS_REDIS_PREFIX:=$PREFIX}"
: "\${ROOMS_CLUSTER_NGINX:=$NGINX}"
EOF
}

# The workers' environment: /etc/rooms.env of docs/deploy.md, for plain HTTP
# on the loopback (no TLS here, so no HTTPS redirect and no Secure cookies).
write_env() {
  local key="$DIR/secret-key"
  if [[ ! -s "$key" ]]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$key")
  fi
  cat >"$DIR/rooms.env" <<EOF
DJANGO_DEBUG=0
DJANGO_SECRET_KEY=$(cat "$key")
DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
DJANGO_CSRF_TRUSTED_ORIGINS=http://127.0.0.1:$PORT,http://localhost:$PORT
DJANGO_SECURE_SSL_REDIRECT=0
DJANGO_SECURE_COOKIES=0
DATABASE_URL=$DATABASE
REDIS_URL=$REDIS
ROOMS_REDIS_PREFIX=$PREFIX
ROOMS_MEDIA_ROOT=$DIR/media
ROOMS_ACCEL_REDIRECT=/_protected/
EOF
}

# manage.py with the workers' environment.
manage() {
  (cd "$ROOT" && set -a && source "$DIR/rooms.env" && set +a && exec "$PY" manage.py "$@")
}

create_database() {
  [[ "$DATABASE" == postgres* ]] || return 0
  "$PY" - "$DATABASE" <<'EOF'
import sys
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

url = urlsplit(sys.argv[1])
name = url.path.lstrip("/")
with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True,
                     connect_timeout=10) as conn:
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"cluster: created database {name}", file=sys.stderr)
EOF
}

# The status code of GET `path` on 127.0.0.1:`port`, or nothing.
http_status() {
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&3
    read -r _ code _ <&3 && printf "%s" "$code"' _ "$1" "$2" 2>/dev/null || true
}

pid_of() { cat "$DIR/$1.pid" 2>/dev/null || true; }

# Whether process `pid` runs (one that exited but is not reaped yet does not).
running() { kill -0 "$1" 2>/dev/null && [[ "$(ps -o stat= -p "$1" 2>/dev/null)" != Z* ]]; }

# Whether pid file `name` names a live process whose command line has `what`.
alive() {
  local pid
  pid="$(pid_of "$1")"
  [[ -n "$pid" ]] && running "$pid" &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

worker_alive() { alive "worker-$1" "project.asgi:application"; }

start_worker() {
  local port="$1" command
  if [[ "$SERVER" == uvicorn ]]; then
    command=("$VENV/bin/uvicorn" --host 127.0.0.1 --port "$port" --lifespan off
      --proxy-headers --ws-max-size 65536 --ws-per-message-deflate false --no-access-log
      project.asgi:application)
  else
    command=("$VENV/bin/daphne" -e "tcp:port=$port:interface=127.0.0.1:backlog=2048"
      --proxy-headers project.asgi:application)
  fi
  (
    cd "$ROOT"
    set -a && source "$DIR/rooms.env" && set +a
    # Its own session: a Ctrl-C in the terminal that started it does not reach it.
    exec setsid "${command[@]}" >>"$DIR/worker-$port.log" 2>&1 </dev/null
  ) &
  echo "$!" >"$DIR/worker-$port.pid"
}

# The one job worker (`manage.py worker`, docs/notifications.md): delayed
# email and push jobs, from the same database.
jobs_alive() { alive jobs "manage.py worker"; }

start_jobs() {
  (
    cd "$ROOT"
    set -a && source "$DIR/rooms.env" && set +a
    exec setsid "$PY" manage.py worker >>"$DIR/jobs.log" 2>&1 </dev/null
  ) &
  echo "$!" >"$DIR/jobs.pid"
}

stop_jobs() {
  jobs_alive || { rm -f "$DIR/jobs.pid"; return 0; }
  local status=0
  # It stops within 10 s of SIGTERM (after the job it is running).
  stop_pid "$(pid_of jobs)" "job worker" || status=1
  rm -f "$DIR/jobs.pid"
  return "$status"
}

wait_healthy() {
  local port="$1" name="$2" deadline=$((SECONDS + 60))
  until [[ "$(http_status "$port" /healthz)" == 200 ]]; do
    if [[ "$name" == worker-* ]] && ! worker_alive "$port"; then
      tail -n 30 "$DIR/$name.log" >&2 || true
      die "$name exited"
    fi
    ((SECONDS < deadline)) || die "$name on 127.0.0.1:$port not healthy after 60 s"
    sleep 0.2
  done
}

# SIGTERM, then SIGKILL if it is still running after the shutdown timeout
# and a grace; returns 1 if it had to be killed.
stop_pid() {
  local pid="$1" name="$2" grace
  grace=$(awk -v t="$SHUTDOWN_TIMEOUT" 'BEGIN { printf "%d", (t + 5) * 10 }')
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace; i++)); do
    running "$pid" || return 0
    sleep 0.1
  done
  log "cluster: $name (pid $pid) still running after ${SHUTDOWN_TIMEOUT}s + 5s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  return 1
}

stop_worker() {
  local port="$1"
  worker_alive "$port" || { rm -f "$DIR/worker-$port.pid"; return 0; }
  local status=0
  stop_pid "$(pid_of "worker-$port")" "worker $port" || status=1
  rm -f "$DIR/worker-$port.pid"
  return "$status"
}

nginx_cmd() { "$NGINX" -p "$NGINX_DIR/" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" "$@"; }

nginx_alive() { alive nginx/nginx "nginx: master"; }

# deploy/nginx.conf itself, with this cluster's listen address, workers, log
# and static paths in place of production's; and a main configuration whose
# pid, logs and temp files all live in the work directory.
render_nginx() {
  mkdir -p "$NGINX_DIR/temp"
  awk -v listen="127.0.0.1:$PORT" -v workers="$WORKERS" \
    -v access_log="$NGINX_DIR/rooms.access.log" -v static="$ROOT/staticfiles/" \
    -v media="$DIR/media/" '
    /^upstream rooms_workers[[:space:]]*\{/ { upstream = 1 }
    upstream && /^\}/ { upstream = 0 }
    upstream && /^[[:space:]]*server[[:space:]]/ {
      # One line per worker, with the parameters of the first server line.
      if (!done) {
        params = $0
        sub(/^[[:space:]]*server[[:space:]]+[^[:space:];]+/, "", params)
        n = split(workers, ports, " ")
        for (i = 1; i <= n; i++) printf "    server 127.0.0.1:%s%s\n", ports[i], params
        done = 1
      }
      next
    }
    /^[[:space:]]*listen[[:space:]]/ { sub(/listen[^;]*;/, "listen " listen ";") }
    /^[[:space:]]*server_name[[:space:]]/ { sub(/server_name[^;]*;/, "server_name 127.0.0.1 localhost;") }
    /^[[:space:]]*access_log[[:space:]]/ { sub(/access_log[[:space:]]+[^[:space:];]+/, "access_log " access_log) }
    /^[[:space:]]*alias[[:space:]]+\/srv\/rooms\/media\// { sub(/alias[^;]*;/, "alias " media ";"); print; next }
    /^[[:space:]]*alias[[:space:]]/ { sub(/alias[^;]*;/, "alias " static ";") }
    { print }
  ' "$ROOT/deploy/nginx.conf" >"$NGINX_DIR/rooms.conf"
  # Every production path and address must have been replaced.
  if grep -nE '^[^#]*(ssl|/var/|/srv/|example\.com|:800[0-9];)' "$NGINX_DIR/rooms.conf" >&2; then
    die "deploy/nginx.conf has a line this script does not template (above)"
  fi
  local user=""
  # As root, nginx's workers would run as nobody, who may not enter a private
  # work directory (pytest's tmp_path is 0700).
  [[ "$(id -u)" == 0 ]] && user="user root;"
  cat >"$NGINX_DIR/nginx.conf" <<EOF
# Generated by deploy/cluster.sh: deploy/nginx.conf (rooms.conf) in an http block.
$user
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 4096; }
http {
    # The types of the files Rooms serves, shipped here rather than taken from
    # /etc/nginx/mime.types, which a minimal nginx lacks: without them the
    # JavaScript modules go out as application/octet-stream and the browser
    # refuses to run them (the page then never connects).
    types {
        text/html html;
        text/css css;
        text/javascript js mjs;
        application/json json map;
        text/plain txt;
        image/svg+xml svg;
        image/png png;
        image/x-icon ico;
        image/jpeg jpg jpeg;
        image/gif gif;
        image/webp webp;
        font/woff2 woff2;
        application/manifest+json webmanifest;
    }
    default_type application/octet-stream;
    client_body_temp_path $NGINX_DIR/temp/body;
    proxy_temp_path $NGINX_DIR/temp/proxy;
    fastcgi_temp_path $NGINX_DIR/temp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/temp/uwsgi;
    scgi_temp_path $NGINX_DIR/temp/scgi;
    include $NGINX_DIR/rooms.conf;
}
EOF
  nginx_cmd -t -q || die "nginx rejects $NGINX_DIR/nginx.conf"
}

cmd_up() {
  [[ -x "$NGINX" ]] || die "nginx not found (apt-get install nginx, or set ROOMS_CLUSTER_NGINX)"
  [[ -x "$PY" ]] || die "no virtualenv at $VENV (make run or make test creates it)"
  save_settings
  write_env
  create_database
  manage migrate --noinput >/dev/null
  # The same lock as tests/harness/deployment.py: one collectstatic at a time.
  flock "${TMPDIR:-/tmp}/rooms-collectstatic.lock" \
    bash -c 'cd "$1" && set -a && source "$2" && set +a && exec "$3" manage.py collectstatic --noinput' \
    _ "$ROOT" "$DIR/rooms.env" "$PY" >/dev/null
  [[ "$SEED" == 1 ]] && manage seeddemo >/dev/null
  local port started=()
  for port in $WORKERS; do
    if ! worker_alive "$port"; then
      start_worker "$port"
      started+=("$port")
    fi
  done
  for port in "${started[@]}"; do
    wait_healthy "$port" "worker-$port"
  done
  jobs_alive || start_jobs
  local before
  before="$(cat "$NGINX_DIR/nginx.conf" "$NGINX_DIR/rooms.conf" 2>/dev/null | cksum || true)"
  render_nginx
  if ! nginx_alive; then
    # Its output to its log: the daemon must not hold our caller's stderr open.
    nginx_cmd </dev/null >>"$NGINX_DIR/error.log" 2>&1 || {
      tail -n 20 "$NGINX_DIR/error.log" >&2
      die "nginx did not start"
    }
  elif [[ "$(cat "$NGINX_DIR/nginx.conf" "$NGINX_DIR/rooms.conf" | cksum)" != "$before" ]]; then
    nginx_cmd -s reload
  fi
  wait_healthy "$PORT" nginx
  log "cluster: up on http://127.0.0.1:$PORT/ ($SERVER workers on ${WORKERS// /, }; work directory $DIR)"
}

cmd_down() {
  if nginx_alive; then
    stop_pid "$(pid_of nginx/nginx)" nginx || true
  fi
  local port pids=()
  # In parallel: each drains its sockets (docs/deploy.md, Graceful restarts).
  for port in $WORKERS; do
    stop_worker "$port" &
    pids+=("$!")
  done
  stop_jobs &
  pids+=("$!")
  local status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  if [[ -x "$PY" && -f "$DIR/rooms.env" ]]; then
    # Only this cluster's keys: the Redis may be shared (never FLUSHDB).
    "$PY" - "$REDIS" "$PREFIX" <<'EOF' || true
import sys

import redis

client = redis.Redis.from_url(sys.argv[1], socket_timeout=5)
keys = list(client.scan_iter(match=sys.argv[2] + "*", count=1000))
if keys:
    client.delete(*keys)
EOF
  fi
  log "cluster: down"
  return "$status"
}

cmd_restart() {
  local port status=0 t0 t1 t2
  for port in $WORKERS; do
    t0=$EPOCHREALTIME
    stop_worker "$port" || status=1
    t1=$EPOCHREALTIME
    start_worker "$port"
    wait_healthy "$port" "worker-$port"
    t2=$EPOCHREALTIME
    awk -v p="$port" -v a="$t0" -v b="$t1" -v c="$t2" \
      'BEGIN { printf "cluster: worker %s stopped in %.1fs, healthy again %.1fs later\n", p, b - a, c - b }' >&2
  done
  return "$status"
}

cmd_status() {
  local status=0 port pid state health
  if nginx_alive; then state=up; else state=down; status=1; fi
  health="$(http_status "$PORT" /healthz)"
  [[ "$health" == 200 ]] || status=1
  pid="$(pid_of nginx/nginx)"
  printf '%-7s 127.0.0.1:%-5s pid %-7s %-4s /healthz %s\n' nginx "$PORT" \
    "${pid:--}" "$state" "${health:-none}"
  for port in $WORKERS; do
    pid="$(pid_of "worker-$port")"
    if worker_alive "$port"; then state=up; else state=down; status=1; fi
    health="$(http_status "$port" /healthz)"
    [[ "$health" == 200 ]] || status=1
    printf '%-7s 127.0.0.1:%-5s pid %-7s %-4s /healthz %s\n' "$SERVER" "$port" \
      "${pid:--}" "$state" "${health:-none}"
  done
  pid="$(pid_of jobs)"
  if jobs_alive; then state=up; else state=down; status=1; fi
  printf '%-7s %-15s pid %-7s %-4s\n' jobs "manage.py worker" "${pid:--}" "$state"
  return "$status"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  restart) cmd_restart ;;
  status) cmd_status ;;
  *)
    log "usage: deploy/cluster.sh up|down|status|restart"
    exit 2
    ;;
esac
