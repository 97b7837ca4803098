# Shared helpers for the test scripts: a throw-away PostgreSQL on a loopback port.
# Sourced, not executed.

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && echo "$d"
}

# Installs Debian's postgresql when no server binaries are present.
pg_ensure_installed() {
  if [ -z "$(pg_bin)" ]; then
    echo "== installing PostgreSQL (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql >/dev/null
  fi
  [ -n "$(pg_bin)" ] || { echo "PostgreSQL server binaries not found after install" >&2; return 1; }
}

# Runs a PostgreSQL tool as the 'postgres' user when we are root (initdb refuses root).
pg_run() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_init DIR: creates a cluster with a 'sas' superuser (trust auth on loopback only).
pg_init() {
  local dir=$1
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  pg_run "$(pg_bin)/initdb" -D "$dir/data" -A trust -U sas --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
}

# pg_start DIR PORT: starts the cluster on 127.0.0.1:PORT and waits until it accepts connections.
pg_start() {
  local dir=$1 port=$2
  pg_run "$(pg_bin)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
}

# pg_stop DIR
pg_stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] && pg_run "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# free_port: a TCP port nothing listens on.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# chromium_ensure_installed: Debian's Chromium, for the browser test of the regulator's workspace.
chromium_ensure_installed() {
  if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing Chromium (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium >/dev/null
  fi
  command -v chromium >/dev/null 2>&1 || { echo "chromium not found after install" >&2; return 1; }
}

# free_sandbox_base: a port P such that P..P+6 (sandbox vendors' FHIR) and P+50..P+56 (their web pages) are free,
# taken outside the ephemeral range so that later free_port calls cannot land inside it.
free_sandbox_base() {
  python3 - <<'PY'
import random, socket
for _ in range(200):
    base = random.randrange(20000, 29000)
    ports = list(range(base, base + 7)) + list(range(base + 50, base + 57))
    sockets = []
    try:
        for p in ports:
            s = socket.socket(); s.bind(("127.0.0.1", p)); sockets.append(s)
    except OSError:
        continue
    finally:
        for s in sockets: s.close()
    print(base); break
PY
}

# wait_http URL STATUS SECONDS: polls until URL answers STATUS.
wait_http() {
  local url=$1 want=$2 secs=$3 i code
  for i in $(seq 1 $((secs * 10))); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null || true)
    [ "$code" = "$want" ] && return 0
    sleep 0.1
  done
  echo "timeout: $url did not answer $want within ${secs}s (last: $code)" >&2
  return 1
}

# rmq_ensure_installed: Debian's RabbitMQ (with its Erlang runtime), for the Hub Santé link's tests.
rmq_ensure_installed() {
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    echo "== installing RabbitMQ (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq rabbitmq-server >/dev/null
  fi
  command -v rabbitmq-server >/dev/null 2>&1 || { echo "rabbitmq-server not found after install" >&2; return 1; }
}

# rmq_start DIR AMQP_PORT AMQPS_PORT CA CERT KEY: a throw-away broker shaped like Hub Santé — TLS 1.2+ listener
# requiring a client certificate (certificate login from the CN, SASL EXTERNAL) next to a loopback PLAIN listener,
# the hubsante/distribution exchanges and the clients' queues from DIR/definitions.json (written by the caller).
rmq_start() {
  local dir=$1 port=$2 tls_port=$3 ca=$4 cert=$5 key=$6
  mkdir -p "$dir/mnesia" "$dir/log"
  cp "$ca" "$dir/ca.pem"; cp "$cert" "$dir/cert.pem"; cp "$key" "$dir/key.pem"
  cat > "$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$port
listeners.ssl.1 = 127.0.0.1:$tls_port
ssl_options.cacertfile = $dir/ca.pem
ssl_options.certfile = $dir/cert.pem
ssl_options.keyfile = $dir/key.pem
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = EXTERNAL
ssl_cert_login_from = common_name
loopback_users = none
load_definitions = $dir/definitions.json
log.file.level = warning
# A client starved of CPU (the whole test suite starts at once on 2 cores) can take more than the broker's default
# 5 s (TLS) and 10 s (AMQP) to open: the broker then drops the socket without a word, which tests saw as a closed link.
ssl_handshake_timeout = 30000
handshake_timeout = 60000
CONF
  echo "[rabbitmq_auth_mechanism_ssl]." > "$dir/enabled_plugins"
  id rabbitmq >/dev/null 2>&1 && chown -R rabbitmq "$dir"
  RABBITMQ_CONFIG_FILE="$dir/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_NODENAME="sas-test-$port@localhost" \
    RABBITMQ_DIST_PORT=$(free_port) RABBITMQ_PID_FILE="$dir/rabbitmq.pid" \
    rabbitmq-server > "$dir/server.log" 2>&1 &
  echo $! > "$dir/launcher.pid"
  local i
  for i in $(seq 1 120); do
    if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(('127.0.0.1',$tls_port)))" 2>/dev/null; then
      return 0
    fi
    kill -0 "$(cat "$dir/launcher.pid")" 2>/dev/null || break
    sleep 1
  done
  cat "$dir/server.log" "$dir"/log/*.log >&2 2>/dev/null
  return 1
}

# rmq_stop DIR
rmq_stop() {
  local dir=$1
  RABBITMQ_NODENAME="sas-test-$(grep -o 'listeners.tcp.1 = 127.0.0.1:[0-9]*' "$dir/rabbitmq.conf" | cut -d: -f2)@localhost" \
    rabbitmqctl stop >/dev/null 2>&1 || true
  [ -f "$dir/launcher.pid" ] && kill "$(cat "$dir/launcher.pid")" 2>/dev/null || true
}
