#!/usr/bin/env bash
# A real Apache Kafka broker (one KRaft node, broker + controller in one JVM) on 127.0.0.1, for tests.
#
#   kafka.sh install                       fetch the broker's jars from Maven Central (once; cached)
#   kafka.sh start <port> <data-dir>       format <data-dir> if new, start, wait until it serves (<= 60 s)
#   kafka.sh stop <data-dir>               SIGTERM, then SIGKILL if it has not exited within 30 s
#   kafka.sh kill <data-dir>               SIGKILL at once (crash tests)
#   kafka.sh topic <port> <name> <partitions>   create a topic if it does not exist
#   kafka.sh run <main-class> [args...]    run any class from the installed jars with quiet logging, e.g.
#       kafka.sh run org.apache.kafka.tools.ConsoleProducer --bootstrap-server 127.0.0.1:19092 --topic t \
#                --property parse.headers=true       (lines "h1:v1,h2:v2<TAB>value")
#       kafka.sh run org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server 127.0.0.1:19092 \
#                --topic t --from-beginning --max-messages 1 --property print.headers=true
#
# Version: org.apache.kafka:kafka_2.13 4.1.0 (+ kafka-tools, log4j2 backend), override with K8X_KAFKA_VERSION.
# Jars go to ~/.cache/k8x/kafka/<version>/libs (K8X_KAFKA_HOME overrides the folder), fetched by `mvn` through
# a generated pom, so the only network needed is Maven Central. Needs Java 17+ and Maven on PATH.
# In <data-dir>: server.properties (rewritten at each start), logs/ (the Kafka data: kept across
# stop/kill + start), broker.log (this run's output; the previous run's is broker.log.prev), broker.pid.
# Extra broker settings: lines in K8X_KAFKA_PROPS are appended to server.properties. JVM options:
# K8X_KAFKA_JVM_OPTS (default below: 512 MB heap, C1 only). Start timeout: K8X_KAFKA_START_TIMEOUT (default 60 s).
#
# Verified by hand on the polyglot machine (2 cores, Java 17.0.15, Maven 3.8.7), Kafka 4.1.0, 2026-11-27:
#   install with an empty ~/.m2: 28-33 s (93 jars, 54 MB here + 78 MB in ~/.m2); again: skipped in 0.01 s.
#   start: 7.7 s on a new data dir (format included), 4.8 s after `stop`, 7.3 s after `kill` (the controller
#   waits out the dead broker's 3 s session); stop 0.7-0.9 s; kill 0.2 s. Broker RSS 290 MB idle, 325 MB
#   after some traffic. Each console tool (a JVM) takes ~2.5 s.
#   A topic created (twice: idempotent), a record with headers produced and consumed with ConsoleProducer /
#   ConsoleConsumer, a group offset committed; after stop + start and after kill + start the topic, the
#   records and the group's committed offset were all there. Two brokers on two data dirs ran side by side.
set -euo pipefail

KAFKA_VERSION="${K8X_KAFKA_VERSION:-4.1.0}"
LOG4J_VERSION=2.24.3                 # the log4j2 release Kafka 4.1 is built against
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
KAFKA_HOME="${K8X_KAFKA_HOME:-$HOME/.cache/k8x/kafka/$KAFKA_VERSION}"
LIBS="$KAFKA_HOME/libs"
LOG4J_CONFIG="$KAFKA_HOME/log4j2.xml"
START_TIMEOUT="${K8X_KAFKA_START_TIMEOUT:-60}"
STOP_TIMEOUT=30
# C1 only (TieredStopAtLevel=1): on 2 cores the broker starts in ~5.5 s instead of ~9 s; a test broker does
# not need C2's peak throughput.
BROKER_JVM_OPTS="${K8X_KAFKA_JVM_OPTS:--Xmx512m -XX:TieredStopAtLevel=1 -XX:+UseG1GC -XX:MaxGCPauseMillis=20}"
STARTED_MESSAGE="Kafka Server started"   # logged by kafka.server.KafkaRaftServer once the broker is unfenced

say() { printf '[kafka] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
  sed -n '2,13p' "$0" >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------------------
# install

installed() { [ -f "$KAFKA_HOME/.complete" ] && [ -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] && [ -f "$LOG4J_CONFIG" ]; }

write_pom() {
  cat > "$1/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>k8x.local</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- the broker (kafka.Kafka, kafka.tools.StorageTool) and the command-line tools -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- Kafka logs through slf4j 1.7 (kafka_2.13's pom pins slf4j-api 1.7.36); its distribution ships log4j2
         behind it, through the slf4j 1.x binding. The Maven artifacts bring no backend: these three are it. -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
}

# WARN and above to stderr, plus the one INFO line that says the broker is up (start waits for it).
write_log4j_config() {
  cat > "$1" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="warn">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="kafka.server.KafkaRaftServer" level="info"/>
    <Root level="warn"><AppenderRef ref="stderr"/></Root>
  </Loggers>
</Configuration>
XML
}

cmd_install() {
  mkdir -p "$(dirname "$KAFKA_HOME")"
  # Tests may install concurrently: one does the work, the others wait for it and then find it done.
  exec 9> "$KAFKA_HOME.lock"
  flock 9
  if installed; then
    say "Kafka $KAFKA_VERSION already installed in $KAFKA_HOME"
    echo "$KAFKA_HOME"
    return 0
  fi
  command -v java >/dev/null || die "java not found (Java 17+ needed)"
  command -v mvn >/dev/null || die "mvn not found"
  say "fetching Kafka $KAFKA_VERSION and its dependencies from Maven Central (first time: about half a minute)"
  local work
  work=$(mktemp -d "$(dirname "$KAFKA_HOME")/.install.XXXXXX")
  write_pom "$work"
  # Maven's output is kept for a failure only (even -q -B prints stray terminal escape codes).
  if ! mvn -q -B -f "$work/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" \
         -DincludeScope=runtime -DoutputDirectory="$work/home/libs" > "$work/mvn.log" 2>&1; then
    cat "$work/mvn.log" >&2
    rm -rf "$work"
    die "mvn could not fetch Kafka $KAFKA_VERSION"
  fi
  write_log4j_config "$work/home/log4j2.xml"
  echo "$KAFKA_VERSION" > "$work/home/.complete"
  # Swap in whole, so a half-fetched folder is never taken for an installed one.
  rm -rf "$KAFKA_HOME"
  mv "$work/home" "$KAFKA_HOME"
  rm -rf "$work"
  say "installed Kafka $KAFKA_VERSION ($(ls "$LIBS" | wc -l) jars) in $KAFKA_HOME"
  echo "$KAFKA_HOME"
}

require_installed() { installed || die "Kafka $KAFKA_VERSION is not installed: run '$0 install' first"; }

# ---------------------------------------------------------------------------------------------------------
# helpers

# Runs a main class from the installed jars. Small heap, C1 only: the tools are short-lived.
run_class() {
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
       -Dlog4j2.configurationFile="$LOG4J_CONFIG" -cp "$LIBS/*" "$@"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nobody listens on, below the kernel's ephemeral range (32768+) so no client socket takes it meanwhile.
free_port() {
  local p _
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 12000))
    port_open "$p" || { echo "$p"; return 0; }
  done
  die "no free port found for the controller"
}

abs_dir() { mkdir -p "$1" && (cd "$1" && pwd); }

# The pid in <data-dir>/broker.pid if that process is alive and is the broker of this data dir (a stale pid
# file may name a process that reused the pid).
broker_pid() {
  local dir=$1 pid
  [ -f "$dir/broker.pid" ] || return 1
  pid=$(cat "$dir/broker.pid")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$dir/server.properties" || return 1
  echo "$pid"
}

# Alive until it is gone or a zombie whose threads have all exited (its sockets are closed only then). The
# broker outlives the `start` that forked it, so whatever reaps orphans reaps it, maybe late: kill -0 alone
# would wait for that; the leader thread alone shows Z while the other threads are still exiting.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  grep -q '^[^)]*) Z' "/proc/$1/stat" 2>/dev/null || return 0
  [ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -gt 1 ]
}

wait_gone() {  # <pid> <seconds>
  local deadline=$((SECONDS + $2))
  while alive "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------------------------------------
# start

write_server_properties() {  # <dir> <port> <controller-port>
  cat > "$1/server.properties" <<PROPS
# Written by scripts/kafka.sh at each start; edits are lost. Data: $1/logs
process.roles=broker,controller
node.id=1
# A static one-voter quorum: the controller port may change from one start to the next.
controller.quorum.voters=1@127.0.0.1:$3
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$2,CONTROLLER://127.0.0.1:$3
advertised.listeners=PLAINTEXT://127.0.0.1:$2
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$1/logs
num.partitions=1
auto.create.topics.enable=false
# One node: internal topics with one replica, and few partitions so the first group or transaction is quick.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a kill the controller refuses the restarted broker until the dead one's session expires (default 9 s):
# a shorter session makes a crash + restart take ~6 s less. The heartbeat runs in this same JVM.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
${K8X_KAFKA_PROPS:-}
PROPS
}

# Formats the log dir once, with a fresh cluster id; a formatted dir (meta.properties) is left as it is.
format_if_new() {  # <dir>
  [ -f "$1/logs/meta.properties" ] && return 0
  local cluster_id
  # A Kafka cluster id is 16 random bytes in URL-safe base64 without padding (22 characters).
  cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  say "formatting $1/logs (cluster id $cluster_id)"
  # `--cluster-id=<id>`, not `-t <id>`: an id may start with `-`, which the tool would read as an option.
  run_class kafka.tools.StorageTool format --ignore-formatted --cluster-id="$cluster_id" -c "$1/server.properties" \
    >> "$1/broker.log" 2>&1 || { tail -n 30 "$1/broker.log" >&2; die "formatting $1/logs failed"; }
}

start_failed() {  # <dir> <reason>
  say "$2; last lines of $1/broker.log:"
  tail -n 40 "$1/broker.log" >&2 || true
  exit 1
}

cmd_start() {
  [ $# -eq 2 ] || usage
  local port=$1 dir pid controller_port
  dir=$(abs_dir "$2")
  require_installed
  if pid=$(broker_pid "$dir"); then die "a broker already runs on $dir (pid $pid)"; fi
  # Checked first: otherwise another process on the port would pass for this broker being up.
  port_open "$port" && die "port $port is already in use"
  controller_port=$(free_port)
  while [ "$controller_port" = "$port" ]; do controller_port=$(free_port); done

  [ -f "$dir/broker.log" ] && mv -f "$dir/broker.log" "$dir/broker.log.prev"
  write_server_properties "$dir" "$port" "$controller_port"
  format_if_new "$dir"

  # shellcheck disable=SC2086  # several options in one variable
  java $BROKER_JVM_OPTS -Djava.awt.headless=true -Dlog4j2.configurationFile="$LOG4J_CONFIG" \
       -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" \
       < /dev/null >> "$dir/broker.log" 2>&1 &
  pid=$!
  echo "$pid" > "$dir/broker.pid"

  # Up = the port accepts connections and the broker has logged that it started (after it is unfenced).
  local deadline=$((SECONDS + START_TIMEOUT))
  until port_open "$port" && grep -qF "$STARTED_MESSAGE" "$dir/broker.log"; do
    alive "$pid" || { rm -f "$dir/broker.pid"; start_failed "$dir" "the broker exited"; }
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 10 || true
      rm -f "$dir/broker.pid"
      start_failed "$dir" "the broker was not up after ${START_TIMEOUT}s (killed)"
    fi
    sleep 0.2
  done
  say "broker up on 127.0.0.1:$port (pid $pid, controller port $controller_port, data $dir)"
}

# ---------------------------------------------------------------------------------------------------------
# stop, kill

cmd_stop() {
  [ $# -eq 1 ] || usage
  local dir pid
  dir=$(abs_dir "$1")
  if ! pid=$(broker_pid "$dir"); then say "no broker running on $dir"; rm -f "$dir/broker.pid"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
    say "broker $pid still running after ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || die "broker $pid survived SIGKILL"
  fi
  rm -f "$dir/broker.pid"
  say "broker $pid stopped"
}

cmd_kill() {
  [ $# -eq 1 ] || usage
  local dir pid
  dir=$(abs_dir "$1")
  if ! pid=$(broker_pid "$dir"); then say "no broker running on $dir"; rm -f "$dir/broker.pid"; return 0; fi
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 || die "broker $pid survived SIGKILL"
  rm -f "$dir/broker.pid"
  say "broker $pid killed"
}

# ---------------------------------------------------------------------------------------------------------
# topic, run

cmd_topic() {
  [ $# -eq 3 ] || usage
  require_installed
  run_class org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$1" \
    --create --if-not-exists --topic "$2" --partitions "$3" --replication-factor 1
}

cmd_run() {
  [ $# -ge 1 ] || usage
  require_installed
  run_class "$@"
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  kill) shift; cmd_kill "$@" ;;
  topic) shift; cmd_topic "$@" ;;
  run) shift; cmd_run "$@" ;;
  *) usage ;;
esac
