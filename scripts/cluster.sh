#!/usr/bin/env bash
# `make cluster-test`: a single-node SLURM cluster on this machine, the tests marked `cluster`, then
# every daemon it started stopped by PID (also when a test fails or the run is interrupted).
#
#   scripts/cluster.sh [PYTEST ARGS...]        # default: -m cluster tests/test_cluster.py
#
# - Installs Debian's slurm-wlm, slurmdbd, munge and mariadb-server with apt-get when missing (root or
#   password-less sudo needed for that only).
# - Writes every configuration, key, socket, database, spool and log into one temporary folder
#   (never /etc/slurm or /etc/munge), on ports of its own, and starts munged, MariaDB, slurmdbd,
#   slurmctld and slurmd from it. No systemd, no cgroups (proctrack/linuxproc, task/none).
# - A machine that already runs SLURM (`scontrol ping` answers, or slurmctld runs) is left alone: the
#   tests use that cluster, or are skipped with a message when CARTELSIM_CLUSTER=skip.
# - CARTELSIM_CLUSTER_KEEP=1 keeps the temporary folder (logs) after the run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PY:-$ROOT/.venv/bin/python}
PYTEST_ARGS=("$@")
[ ${#PYTEST_ARGS[@]} -gt 0 ] || PYTEST_ARGS=(-m cluster tests/test_cluster.py)
say() { echo "cluster: $*" >&2; }

run_tests() {
  CARTELSIM_CLUSTER_REQUIRED=1 "$PY" -m pytest -q -p no:cacheprovider --durations=0 -s "${PYTEST_ARGS[@]}"
}

# 1. a cluster that is already there is used, never touched
if [ -z "${SLURM_CONF:-}" ] && command -v scontrol >/dev/null 2>&1 && \
   { scontrol ping 2>/dev/null | grep -q "is UP" || pgrep -x slurmctld >/dev/null 2>&1; }; then
  if [ "${CARTELSIM_CLUSTER:-}" = "skip" ]; then
    say "this machine already runs SLURM; CARTELSIM_CLUSTER=skip, so the cluster tests are skipped"
    exit 0
  fi
  say "this machine already runs SLURM; the cluster tests use it (nothing is started or stopped)"
  run_tests
  exit $?
fi

# 2. packages
NEED=()
for pair in slurmctld:slurm-wlm slurmd:slurm-wlm slurmdbd:slurmdbd munged:munge mariadbd:mariadb-server; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "${pair%%:*}" >/dev/null 2>&1 \
    || NEED+=("${pair#*:}")
done
export PATH="$PATH:/usr/sbin:/sbin"
if [ ${#NEED[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if sudo -n true >/dev/null 2>&1; then SUDO=sudo; else
      say "needs the Debian packages ${NEED[*]}; install them (sudo apt-get install ${NEED[*]}) or run as root"; exit 1
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || { say "needs ${NEED[*]} and this machine has no apt-get"; exit 1; }
  say "installing ${NEED[*]} with apt-get"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${NEED[@]}" >/dev/null
fi
if [ "$(id -u)" != 0 ]; then
  say "starting the daemons of a private cluster needs root (SlurmUser=root); run make cluster-test as root"
  exit 1
fi

# 3. configuration in a temporary folder
T=$(mktemp -d /tmp/cartelsim-slurm.XXXXXX)
chmod 711 "$T"
mkdir -p "$T/state" "$T/spool" "$T/db"
HOST=$(hostname -s)
PORT_CTLD=${CARTELSIM_SLURM_PORT:-16817}
PORT_SLURMD=$((PORT_CTLD + 1)); PORT_DBD=$((PORT_CTLD + 2)); PORT_DB=$((PORT_CTLD + 3))
PIDS=()   # every daemon we start, in start order
NAMES=()

stop_all() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ] && [ ${#PIDS[@]} -gt 0 ]; then
    scancel --full --quiet --user "$(id -un)" >/dev/null 2>&1 || true   # jobs of this private cluster only
    for _ in $(seq 1 20); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[$i]}" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "${PIDS[$i]}" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "${PIDS[$i]}" 2>/dev/null; then kill -9 "${PIDS[$i]}" 2>/dev/null || true; fi
    wait "${PIDS[$i]}" 2>/dev/null || true
  done
  [ ${#PIDS[@]} -gt 0 ] && say "stopped ${NAMES[*]} (PIDs ${PIDS[*]})"
  if [ "${CARTELSIM_CLUSTER_KEEP:-}" = 1 ] || [ $rc -ne 0 ]; then say "logs kept in $T"; else rm -rf "$T"; fi
  exit $rc
}
trap stop_all EXIT
trap 'exit 130' INT TERM

start() {  # start NAME COMMAND...: a daemon in the foreground of a background job; its PID recorded
  local name=$1; shift
  "$@" >"$T/$name.out" 2>&1 &
  PIDS+=($!); NAMES+=("$name")
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      say "$what did not come up within $secs s; logs:"; tail -n 20 "$T"/*.log "$T"/*.out >&2 || true; exit 1
    fi
    sleep 0.2
  done
}

# munge: a fresh key of our own
dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge.key"
start munged munged -F --force --key-file="$T/munge.key" --socket="$T/munge.socket" \
  --pid-file="$T/munged.pid" --log-file="$T/munged.log" --seed-file="$T/munge.seed"
wait_for 20 munged test -S "$T/munge.socket"

# MariaDB for slurmdbd (job accounting: without it submitit cannot see a job that died early)
mariadb-install-db --no-defaults --datadir="$T/db" --user=root --auth-root-authentication-method=normal \
  --skip-test-db >"$T/mariadb-install.out" 2>&1
start mariadbd mariadbd --no-defaults --datadir="$T/db" --socket="$T/mariadb.socket" --port="$PORT_DB" \
  --bind-address=127.0.0.1 --user=root --pid-file="$T/mariadbd.pid" --log-error="$T/mariadbd.log" \
  --innodb-buffer-pool-size=64M
wait_for 60 MariaDB mariadb --no-defaults --socket="$T/mariadb.socket" -uroot -e "SELECT 1"
mariadb --no-defaults --socket="$T/mariadb.socket" -uroot -e "
  CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'cartelsim'; CREATE USER 'slurm'@'localhost' IDENTIFIED BY 'cartelsim';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"

cat >"$T/slurmdbd.conf" <<CONF
AuthType=auth/munge
AuthInfo=socket=$T/munge.socket
DbdHost=localhost
DbdPort=$PORT_DBD
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$PORT_DB
StorageUser=slurm
StoragePass=cartelsim
StorageLoc=slurm_acct_db
PidFile=$T/slurmdbd.pid
LogFile=$T/slurmdbd.log
CONF
chmod 600 "$T/slurmdbd.conf"

NODE=$(slurmd -C | head -n 1)
cat >"$T/slurm.conf" <<CONF
ClusterName=cartelsim
SlurmctldHost=$HOST
SlurmctldPort=$PORT_CTLD
SlurmdPort=$PORT_SLURMD
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$PORT_DBD
AccountingStoragePass=$T/munge.socket
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ReturnToService=2
MpiDefault=none
KillWait=5
MinJobAge=600
InactiveLimit=0
$NODE State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$T/slurm.conf"

start slurmdbd slurmdbd -D
wait_for 30 slurmdbd sacctmgr -i -n list cluster
start slurmctld slurmctld -D -i
wait_for 30 slurmctld sh -c 'scontrol ping | grep -q "is UP"'
start slurmd slurmd -D
wait_for 60 "the node ($HOST idle)" sh -c "sinfo -h -n $HOST -o %t | grep -qx idle"
say "single-node cluster up in $SECONDS s (config: $SLURM_CONF); running the cluster tests"
run_tests
