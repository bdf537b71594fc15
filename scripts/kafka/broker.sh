#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft: broker and controller in one JVM) on loopback,
# for the test suite, CI and local development. No Docker: the jars come from Maven Central.
#
#   broker.sh fetch              download the broker jars into the cache (idempotent)
#   broker.sh start [--dir DIR]  format KRaft storage, start, wait until it answers;
#                                prints 127.0.0.1:PORT as the last line of stdout. Started again
#                                with the same DIR after a stop, it reuses its port and its data.
#   broker.sh stop  [--dir DIR]  SIGTERM, wait, then SIGKILL; idempotent
#
# Environment: HM_KAFKA_CACHE (default ~/.cache/harness-meter/kafka), HM_KAFKA_START_TIMEOUT (s, default 90),
# HM_KAFKA_HEAP (default 512m).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/pom.xml")"
CACHE="${HM_KAFKA_CACHE:-$HOME/.cache/harness-meter/kafka}/$VERSION"
LIBS="$CACHE/libs"
TIMEOUT="${HM_KAFKA_START_TIMEOUT:-90}"
HEAP="${HM_KAFKA_HEAP:-512m}"

die() { echo "broker.sh: $*" >&2; exit 1; }

fetch() {
  if [ -f "$CACHE/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch the Kafka jars from Maven Central."
  command -v java >/dev/null || die "Java 17+ is needed to run the Kafka broker."
  rm -rf "$LIBS" && mkdir -p "$LIBS"
  echo "fetching Apache Kafka $VERSION (kafka_2.13) and its dependencies into $LIBS" >&2
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS" >&2 \
    || die "mvn could not fetch org.apache.kafka:kafka_2.13:$VERSION (is Maven Central reachable?)"
  ls "$LIBS"/kafka_2.13-"$VERSION".jar >/dev/null 2>&1 || die "the fetch did not produce kafka_2.13-$VERSION.jar"
  date -u +%FT%TZ > "$CACHE/.complete"
}

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

parse_dir() {
  DIR=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) DIR="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
}

start() {
  parse_dir "$@"
  fetch
  [ -n "$DIR" ] || DIR="$(mktemp -d "${TMPDIR:-/tmp}/hm-kafka-XXXXXX")"
  mkdir -p "$DIR"
  if [ -f "$DIR/broker.pid" ] && kill -0 "$(cat "$DIR/broker.pid")" 2>/dev/null; then
    die "a broker is already running from $DIR (pid $(cat "$DIR/broker.pid")); stop it first"
  fi
  local port cport restart=""
  if [ -f "$DIR/server.properties" ] && [ -f "$DIR/data/meta.properties" ]; then
    # A restart: same ports, same data.
    port="$(sed -n 's#^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*#\1#p' "$DIR/server.properties")"
    restart=1
  else
  port="$(free_port)"; cport="$(free_port)"
  while [ "$cport" = "$port" ]; do cport="$(free_port)"; done
  cat > "$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
controller.quorum.bootstrap.servers=127.0.0.1:$cport
log.dirs=$DIR/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.flush.interval.messages=9223372036854775807
PROPS
  fi
  local java_opts=(-Xms128m "-Xmx$HEAP" -XX:+UseG1GC -Djava.awt.headless=true
    "-Dkafka.logs.dir=$DIR" "-Dlog4j2.configurationFile=$HERE/log4j2.properties")
  if [ -z "${restart:-}" ]; then
    java "${java_opts[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format --standalone \
      -t "$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid)" -c "$DIR/server.properties" > "$DIR/format.log" 2>&1 \
      || { cat "$DIR/format.log" >&2; die "formatting KRaft storage failed"; }
  fi
  nohup java "${java_opts[@]}" -cp "$LIBS/*" kafka.Kafka "$DIR/server.properties" > "$DIR/stdout.log" 2>&1 &
  echo $! > "$DIR/broker.pid"
  echo "$port" > "$DIR/broker.port"
  local deadline=$((SECONDS + TIMEOUT))
  until node "$HERE/wait.cjs" "127.0.0.1:$port" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$DIR/broker.pid")" 2>/dev/null; then
      tail -n 40 "$DIR/stdout.log" "$DIR/broker.log" >&2 2>/dev/null || true
      die "the broker exited during start (logs in $DIR)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 40 "$DIR/stdout.log" "$DIR/broker.log" >&2 2>/dev/null || true
      stop --dir "$DIR"
      die "the broker did not answer within ${TIMEOUT}s (logs in $DIR)"
    fi
    sleep 0.5
  done
  echo "Kafka $VERSION broker up in $DIR (pid $(cat "$DIR/broker.pid"))" >&2
  echo "127.0.0.1:$port"
}

stop() {
  parse_dir "$@"
  [ -n "$DIR" ] || die "stop needs --dir DIR (the folder start used)"
  [ -f "$DIR/broker.pid" ] || return 0
  local pid; pid="$(cat "$DIR/broker.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/broker.pid"
}

case "${1:-}" in
  fetch) fetch ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  -h|--help|help|"") sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command $1 (fetch, start, stop)" ;;
esac
