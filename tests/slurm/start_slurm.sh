#!/usr/bin/env bash
# Bring up a throwaway single-node Slurm on this machine (as root; for tests/test_slurm.py and for
# trying the slurm profile by hand):
#
#   eval "$(tests/slurm/start_slurm.sh)"     # installs if needed, starts, prints `export SLURM_CONF=...`
#   snakemake --profile <profile> ...         # sbatch/squeue now talk to this cluster
#   tests/slurm/stop_slurm.sh                 # stops exactly the daemons this script started
#
# Installs Debian's slurmctld, slurmd, slurm-client and munge (Slurm 22.05) when missing, writes
# slurm.conf, gres.conf and cgroup.conf into a state folder and links /etc/slurm/slurm.conf to it
# (jobs' srun reads the default path; an existing /etc/slurm/slurm.conf is never replaced), starts
# munged (unless a working one is already running, which is then left alone), slurmctld and slurmd,
# and waits until the node is idle. No systemd is needed. The cluster has no accounting (no
# slurmdbd): use the squeue status command (`slurm-status-command: squeue`), see docs/cluster.md.
#
# One node, named after `hostname -s`, with this machine's CPUs, a little less memory than it has,
# and one fake GPU (gres gpu:1 backed by /dev/null) so that GPU requests (--gpus, --gres) schedule.
# One partition, default, named $GAITCORE_SLURM_PARTITION.
#
# Environment (all optional):
#   GAITCORE_SLURM_DIR        state folder (config, spool, logs, pid files)   [/tmp/gaitcore-slurm]
#   GAITCORE_SLURM_PARTITION  name of the partition                            [ci]
#   GAITCORE_SLURM_TIMEOUT    seconds allowed for installing and for starting  [300]
#   GAITCORE_SLURM_PORT       slurmctld port; slurmd uses the next one         [16817]
# Exit status: 0 up (or already up), 2 not root, 3 no apt-get to install with, 4 the machine has
# its own /etc/slurm/slurm.conf (left alone; a link an earlier, killed start left behind is
# replaced), 1 anything else.
# Everything it says goes to stderr; stdout carries only the export line.
set -euo pipefail

STATE=${GAITCORE_SLURM_DIR:-/tmp/gaitcore-slurm}
PARTITION=${GAITCORE_SLURM_PARTITION:-ci}
TIMEOUT=${GAITCORE_SLURM_TIMEOUT:-300}
PORT=${GAITCORE_SLURM_PORT:-16817}
CONF="$STATE/slurm.conf"
NODE=$(hostname -s)
export SLURM_CONF="$CONF"

say() { echo "start_slurm: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
node_state() { timeout 10 sinfo -h -n "$NODE" -o %t 2>/dev/null | head -n1; }

[[ $(id -u) -eq 0 ]] || { say "must run as root (installs packages, runs slurmd)"; exit 2; }

# Already up from an earlier call with the same state folder: nothing to do.
if alive "$STATE/slurmctld.pid" && alive "$STATE/slurmd.pid" && [[ "$(node_state)" =~ ^(idle|mix|alloc) ]]; then
    say "already running (state in $STATE)"
    echo "export SLURM_CONF=$CONF"
    exit 0
fi

# --- install -------------------------------------------------------------------------------
missing=()
for tool in slurmctld slurmd sbatch squeue sinfo munged; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    command -v apt-get >/dev/null || { say "missing ${missing[*]} and no apt-get to install them"; exit 3; }
    say "installing slurmctld slurmd slurm-client munge (missing: ${missing[*]})"
    # Keep the packages' init scripts from starting daemons we would not own.
    own_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
    fi
    status=0
    {
        timeout "$TIMEOUT" apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive timeout "$TIMEOUT" apt-get install -y -qq \
                --no-install-recommends slurmctld slurmd slurm-client munge
    } >"${TMPDIR:-/tmp}/gaitcore-slurm-apt.log" 2>&1 || status=$?
    ((own_policy)) && rm -f /usr/sbin/policy-rc.d
    if ((status)); then
        tail -n 30 "${TMPDIR:-/tmp}/gaitcore-slurm-apt.log" >&2
        die "apt-get failed (status $status)"
    fi
fi

# --- configuration ---------------------------------------------------------------------------
# Stop leftovers of an earlier run from this state folder before starting afresh.
for daemon in slurmd slurmctld; do
    if alive "$STATE/$daemon.pid"; then
        say "stopping a stale $daemon from an earlier run"
        kill "$(cat "$STATE/$daemon.pid")" 2>/dev/null || true
        for _ in $(seq 50); do alive "$STATE/$daemon.pid" || break; sleep 0.2; done
    fi
done
rm -rf "$STATE/ctld" "$STATE/spool"
mkdir -p "$STATE/ctld" "$STATE/spool"

cpus=$(nproc)
mem_total_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
real_memory=$(( mem_total_mb * 9 / 10 ))   # slurmd drains a node that has less than this

cat >"$CONF" <<EOF
# Written by tests/slurm/start_slurm.sh: a single-node test cluster, no accounting, no cgroups.
ClusterName=gaitcore-test
SlurmctldHost=$NODE
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue for an hour: the status command needs this, and the test reads
# every job's record after the whole run (up to its 20-minute timeout).
MinJobAge=3600
InactiveLimit=0
KillWait=5
SchedulerParameters=sched_interval=5
GresTypes=gpu
NodeName=$NODE CPUs=$cpus RealMemory=$real_memory Gres=gpu:1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

cat >"$STATE/gres.conf" <<EOF
# One fake GPU: enough for Slurm to schedule --gpus=1 / --gres=gpu:1; jobs see no device.
AutoDetect=off
NodeName=$NODE Name=gpu File=/dev/null
EOF

cat >"$STATE/cgroup.conf" <<EOF
# No cgroup plugin is configured (proctrack/linuxproc, task/none); kept explicit for slurmd.
CgroupPlugin=autodetect
IgnoreSystemd=yes
EOF

# Jobs need the configuration at Slurm's default path: the executor's job step strips SLURM_*
# (SLURM_CONF included) from the environment of the srun it runs inside each job.
ETC_CONF=/etc/slurm/slurm.conf
HEADER="# Written by tests/slurm/start_slurm.sh"
# A link an earlier start made and no stop removed (its run was killed): its target is gone, or is
# a configuration this script wrote whose slurmctld no longer runs. It configures nothing; replace it.
stale_link() {
    local target
    [[ -L "$ETC_CONF" ]] || return 1
    target=$(readlink "$ETC_CONF")
    [[ ! -e "$target" ]] && return 0
    [[ "$(head -n1 "$target")" == "$HEADER"* ]] || return 1
    local pid
    pid=$(cat "$(dirname "$target")/slurmctld.pid" 2>/dev/null) || return 0
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" != slurmctld ]]
}
if [[ -L "$ETC_CONF" && "$(readlink "$ETC_CONF")" == "$CONF" ]]; then
    :
elif stale_link; then
    say "replacing $ETC_CONF, a link to $(readlink "$ETC_CONF") left by an earlier start that was never stopped"
    ln -sfn "$CONF" "$ETC_CONF"
    echo "$ETC_CONF" > "$STATE/etc-link"   # stop_slurm.sh removes the link
elif [[ -e "$ETC_CONF" || -L "$ETC_CONF" ]]; then
    say "this machine has its own Slurm configuration ($ETC_CONF); not replacing it"
    exit 4
else
    mkdir -p /etc/slurm
    ln -s "$CONF" "$ETC_CONF"
    echo "$ETC_CONF" > "$STATE/etc-link"   # stop_slurm.sh removes the link
fi

# --- munge -----------------------------------------------------------------------------------
if timeout 10 munge -n 2>/dev/null | timeout 10 unmunge >/dev/null 2>&1; then
    say "using the munged that is already running (not ours, left alone)"
else
    [[ -s /etc/munge/munge.key ]] || { say "creating /etc/munge/munge.key"; mungekey --create --force; }
    chown munge:munge /etc/munge/munge.key
    chmod 600 /etc/munge/munge.key
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    rm -f /run/munge/munged.pid
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do [[ -s /run/munge/munged.pid ]] && break; sleep 0.1; done
    [[ -s /run/munge/munged.pid ]] || die "munged did not start"
    cp /run/munge/munged.pid "$STATE/munged.pid"
    timeout 10 munge -n | timeout 10 unmunge >/dev/null || die "munge does not work"
fi

# --- slurmctld, slurmd -----------------------------------------------------------------------
say "starting slurmctld and slurmd (node $NODE: $cpus CPUs, ${real_memory} MB, gpu:1; partition $PARTITION)"
/usr/sbin/slurmctld -f "$CONF" -c || { tail -n 20 "$STATE/slurmctld.log" >&2; die "slurmctld failed"; }
/usr/sbin/slurmd -f "$CONF" || { tail -n 20 "$STATE/slurmd.log" >&2; die "slurmd failed"; }

deadline=$((SECONDS + TIMEOUT))
state=""
while ((SECONDS < deadline)); do
    state=$(node_state || true)
    case "$state" in
        idle) break ;;
        drain* | drng* | down*)
            # slurmd registers a moment after slurmctld marks the node down; resume it once.
            timeout 10 scontrol update nodename="$NODE" state=resume 2>/dev/null || true ;;
    esac
    alive "$STATE/slurmctld.pid" || { tail -n 20 "$STATE/slurmctld.log" >&2; die "slurmctld exited"; }
    alive "$STATE/slurmd.pid" || { tail -n 20 "$STATE/slurmd.log" >&2; die "slurmd exited"; }
    sleep 1
done
if [[ "$state" != idle ]]; then
    timeout 10 scontrol show node "$NODE" >&2 || true
    tail -n 20 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2 || true
    die "node $NODE is '$state', not idle, after ${TIMEOUT}s"
fi
say "up: node $NODE idle (state in $STATE)"
echo "export SLURM_CONF=$CONF"
