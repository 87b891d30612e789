#!/usr/bin/env bash
# Mount forensic evidence volumes read-only, prove it, and report it.
#
# Embedded verbatim in the workstation's user data (programs/forensic_env/workstation.py), followed by one
# `mount_evidence <device letter> <snapshot id>` per evidence volume, run one after the other. Also runnable
# on its own (tests):  mount_evidence.sh mount_evidence f snap-123
#                      mount_evidence.sh mount_evidence_device /dev/loop3 snap-test
#
# For each device: set the block device (and its partitions) read-only before anything reads it, and stop
# unless `blockdev --getro` says 1; mount every filesystem read-only without replaying a journal or log
# (ext3/ext4: ro,noload; xfs: ro,norecovery,nouuid; btrfs: ro,rescue=nologreplay; others: ro); check in
# the mount table that mount and superblock are both read-only; append one JSON line to the report.
# A failure prints one line on stderr (device, snapshot, cause), writes its report line with "ok": false,
# and the function returns 1: under `set -e` the boot script stops there, with a non-zero exit status.
# A partition with no filesystem, or with swap/LVM/RAID/encrypted contents, is skipped and listed in the
# report's "skipped"; a whole device without a mountable filesystem is a failure.
#
# Settings (environment): EVIDENCE_MOUNT_ROOT      where to mount (<root>/<snapshot>, <root>/<snapshot>/partN)
#                         EVIDENCE_MOUNT_REPORT    the JSON lines report, appended to
#                         EVIDENCE_DEVICE_TIMEOUT  seconds mount_evidence waits for a device to appear
set -euo pipefail

: "${EVIDENCE_MOUNT_ROOT:=/mnt/evidence}"
: "${EVIDENCE_MOUNT_REPORT:=/var/log/forensics-evidence-mount.json}"
: "${EVIDENCE_DEVICE_TIMEOUT:=600}"

EVIDENCE_REPORTED_FAILURE=3 # exit status of a device's subshell that has already reported its failure

# Partition contents that are not a filesystem to mount: skipped (and reported), not a failure.
EVIDENCE_NOT_MOUNTABLE=" swap LVM2_member crypto_LUKS BitLocker linux_raid_member zfs_member "

_evidence_log() {
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"
}

_json_str() { # <text>: a JSON string literal (control characters become spaces)
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=$(printf '%s' "$s" | LC_ALL=C tr '\001-\037' ' ')
  printf '"%s"' "$s"
}

_json_list() { # <text>...: a JSON array of strings
  local out="" item
  for item in "$@"; do
    out+="${out:+,}$(_json_str "$item")"
  done
  printf '[%s]' "$out"
}

# The device being mounted (set per device, inside its subshell).
R_DEVICE=""
R_ATTACHED=""
R_SNAPSHOT=""
R_READONLY=false
R_MOUNTS=()
R_FSTYPES=()
R_SKIPPED=()

_evidence_reset() { # <device> <snapshot> <attached as>
  R_DEVICE=$1
  R_SNAPSHOT=$2
  R_ATTACHED=$3
  R_READONLY=false
  R_MOUNTS=()
  R_FSTYPES=()
  R_SKIPPED=()
}

_evidence_report() { # <ok: true|false> <error, empty if ok>: append this device's line to the report
  local error=null fstypes line
  if [[ -n $2 ]]; then
    error=$(_json_str "$2")
  fi
  fstypes=$(IFS=,; printf '%s' "${R_FSTYPES[*]+${R_FSTYPES[*]}}")
  line="{\"time\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
  line+=",\"device\":$(_json_str "$R_DEVICE"),\"attached_as\":$(_json_str "$R_ATTACHED")"
  line+=",\"snapshot\":$(_json_str "$R_SNAPSHOT")"
  line+=",\"mountpoints\":$(_json_list ${R_MOUNTS[@]+"${R_MOUNTS[@]}"})"
  line+=",\"fstype\":$(_json_str "$fstypes")"
  line+=",\"skipped\":$(_json_list ${R_SKIPPED[@]+"${R_SKIPPED[@]}"})"
  line+=",\"readonly\":$R_READONLY,\"ok\":$1,\"error\":$error}"
  if ! mkdir -p -- "$(dirname -- "$EVIDENCE_MOUNT_REPORT")" || ! printf '%s\n' "$line" >>"$EVIDENCE_MOUNT_REPORT"; then
    echo "mount_evidence: cannot write the report $EVIDENCE_MOUNT_REPORT" >&2
    return 1
  fi
}

_evidence_where() { # how the failure message names the device
  if [[ -n $R_ATTACHED && $R_ATTACHED != "$R_DEVICE" ]]; then
    printf '%s (attached as %s, snapshot %s)' "$R_DEVICE" "$R_ATTACHED" "$R_SNAPSHOT"
  else
    printf '%s (snapshot %s)' "$R_DEVICE" "$R_SNAPSHOT"
  fi
}

_evidence_fail() { # <cause>: report the failure, one line on stderr, leave the device's subshell
  local cause
  cause=$(printf '%s' "$1" | tr -s '[:space:]' ' ')
  echo "mount_evidence: $(_evidence_where): $cause" >&2
  if ! _evidence_report false "$cause"; then
    echo "mount_evidence: $(_evidence_where): this failure is missing from the report" >&2
  fi
  exit "$EVIDENCE_REPORTED_FAILURE"
}

_evidence_set_ro() { # <block device>: read-only at the block layer, or fail
  local ro
  if ! blockdev --setro "$1"; then
    _evidence_fail "blockdev --setro $1 failed"
  fi
  if ! ro=$(blockdev --getro "$1"); then
    _evidence_fail "blockdev --getro $1 failed"
  fi
  if [[ $ro != 1 ]]; then
    _evidence_fail "blockdev --getro $1 reports '$ro' after --setro, not 1: refusing to read it"
  fi
}

EVIDENCE_FSTYPE=""
_evidence_probe() { # <block device>: its filesystem type in EVIDENCE_FSTYPE ("" when there is none)
  local status=0
  EVIDENCE_FSTYPE=$(blkid -p -o value -s TYPE -- "$1") || status=$?
  case $status in
    0) ;;
    2) EVIDENCE_FSTYPE="" ;; # no signature found
    8) _evidence_fail "blkid found more than one signature on $1 (ambivalent): not guessing its type" ;;
    *) _evidence_fail "blkid -p $1 failed (exit $status)" ;;
  esac
}

_evidence_mount_ro() { # <block device> <target> <fstype>: read-only, no journal or log replay
  case $3 in
    ext3 | ext4) mount -o ro,noload -t "$3" -- "$1" "$2" ;;
    xfs) mount -o ro,norecovery,nouuid -t xfs -- "$1" "$2" ;;
    btrfs) mount -o ro,rescue=nologreplay -t btrfs -- "$1" "$2" ;;
    *) mount -o ro -t "$3" -- "$1" "$2" ;;
  esac
}

_evidence_unmount_after() { # <target> <cause>: take a mount back off, then fail with the cause
  local out
  if ! out=$(umount -- "$1" 2>&1); then
    _evidence_fail "$2; umount $1 also failed: $out"
  fi
  _evidence_fail "$2 (unmounted again)"
}

_evidence_verify_ro() { # <block device> <target>: the mount table says mount and superblock are read-only
  local info source vfs fs ro
  if ! info=$(findmnt -rn -o SOURCE,VFS-OPTIONS,FS-OPTIONS --mountpoint "$2"); then
    _evidence_fail "$1 is not mounted at $2 after mount returned success"
  fi
  info=${info##*$'\n'} # the mount on top
  read -r source vfs fs <<<"$info"
  if [[ $source != "$1" ]]; then # someone else's mount on top of ours: not ours to take off
    _evidence_fail "$2 shows $source on top, not $1"
  fi
  if [[ ,$vfs, != *,ro,* || ,${fs:-}, != *,ro,* ]]; then
    R_READONLY=false
    _evidence_unmount_after "$2" "$1 is mounted read-write at $2 (mount: $vfs; superblock: ${fs:-?})"
  fi
  if ! ro=$(blockdev --getro "$1") || [[ $ro != 1 ]]; then
    R_READONLY=false
    _evidence_unmount_after "$2" "$1 is no longer read-only at the block layer after mounting"
  fi
}

_evidence_mount_fs() { # <block device> <target> <fstype>
  local dev=$1 target=$2 fstype=$3 out
  if ! mkdir -p -- "$target"; then
    _evidence_fail "cannot create the mount point $target"
  fi
  if findmnt -rn --mountpoint "$target" >/dev/null; then
    _evidence_fail "$target is already a mount point"
  fi
  _evidence_log "$R_SNAPSHOT: mounting $dev ($fstype) read-only at $target"
  if ! out=$(_evidence_mount_ro "$dev" "$target" "$fstype" 2>&1); then
    _evidence_fail "mount of $dev ($fstype) at $target failed: ${out:-no message}"
  fi
  _evidence_verify_ro "$dev" "$target"
  R_MOUNTS+=("$target")
  R_FSTYPES+=("$fstype")
}

_evidence_mount_device() { # <block device> <snapshot id> <attached as>: runs in the device's subshell
  local dev parts=() part name type n=0 lsblk_out
  _evidence_reset "$1" "$2" "$3"
  if [[ ! $R_SNAPSHOT =~ ^[A-Za-z0-9._-]+$ ]]; then
    _evidence_fail "snapshot id '$R_SNAPSHOT' is not a safe directory name"
  fi
  if [[ $EVIDENCE_MOUNT_ROOT != /* ]]; then
    _evidence_fail "EVIDENCE_MOUNT_ROOT must be an absolute path, not '$EVIDENCE_MOUNT_ROOT'"
  fi
  if [[ ! -b $R_DEVICE ]]; then
    _evidence_fail "not a block device"
  fi
  dev=$(readlink -f -- "$R_DEVICE")
  R_DEVICE=$dev

  # Read-only first: nothing below (lsblk, blkid, mount) runs on a writable device.
  _evidence_set_ro "$dev"
  if ! lsblk_out=$(lsblk -lnpo NAME,TYPE -- "$dev"); then
    _evidence_fail "lsblk $dev failed"
  fi
  while read -r name type; do
    if [[ $type == part ]]; then
      parts+=("$name")
    fi
  done <<<"$lsblk_out"
  for part in ${parts[@]+"${parts[@]}"}; do
    _evidence_set_ro "$part"
  done
  R_READONLY=true

  if ((${#parts[@]} == 0)); then
    _evidence_probe "$dev"
    if [[ -z $EVIDENCE_FSTYPE ]]; then
      _evidence_fail "no filesystem found (blkid reports no TYPE) and no partitions"
    fi
    if [[ $EVIDENCE_NOT_MOUNTABLE == *" $EVIDENCE_FSTYPE "* ]]; then
      _evidence_fail "holds $EVIDENCE_FSTYPE, not a filesystem this script mounts"
    fi
    _evidence_mount_fs "$dev" "$EVIDENCE_MOUNT_ROOT/$R_SNAPSHOT" "$EVIDENCE_FSTYPE"
  else
    for part in "${parts[@]}"; do
      n=$((n + 1))
      _evidence_probe "$part"
      if [[ -z $EVIDENCE_FSTYPE ]]; then
        R_SKIPPED+=("$part: no filesystem")
        _evidence_log "$R_SNAPSHOT: skipping $part: no filesystem"
      elif [[ $EVIDENCE_NOT_MOUNTABLE == *" $EVIDENCE_FSTYPE "* ]]; then
        R_SKIPPED+=("$part: $EVIDENCE_FSTYPE")
        _evidence_log "$R_SNAPSHOT: skipping $part: $EVIDENCE_FSTYPE"
      else
        _evidence_mount_fs "$part" "$EVIDENCE_MOUNT_ROOT/$R_SNAPSHOT/part$n" "$EVIDENCE_FSTYPE"
      fi
    done
    if ((${#R_MOUNTS[@]} == 0)); then
      _evidence_fail "none of its partitions (${#parts[@]}) holds a filesystem to mount"
    fi
  fi
  if ! _evidence_report true ""; then
    exit 1 # not $EVIDENCE_REPORTED_FAILURE: the caller writes what it can
  fi
  _evidence_log "$R_SNAPSHOT: $dev mounted read-only at ${R_MOUNTS[*]}"
}

find_evidence_device() { # <letter>: the block device EBS attached as /dev/sd<letter> (sd, xvd or NVMe)
  local letter=$1 dev id
  for dev in "/dev/sd$letter" "/dev/xvd$letter"; do
    if [[ -b $dev ]]; then
      readlink -f -- "$dev"
      return 0
    fi
  done
  if command -v ebsnvme-id >/dev/null 2>&1; then
    for dev in /dev/nvme*n1; do
      if [[ ! -b $dev ]]; then
        continue
      fi
      if id=$(ebsnvme-id -b "$dev" 2>/dev/null) && [[ $id =~ ^(/dev/)?(sd|xvd)${letter}$ ]]; then
        echo "$dev"
        return 0
      fi
    done
  fi
  return 1
}

_evidence_wait_and_mount() { # <letter> <snapshot id>: runs in the device's subshell
  local letter=$1 dev deadline
  _evidence_reset "/dev/sd$letter" "$2" "/dev/sd$letter"
  if [[ ! $letter =~ ^[a-z]$ ]]; then
    _evidence_fail "device letter '$letter' is not one letter a-z"
  fi
  if [[ ! $EVIDENCE_DEVICE_TIMEOUT =~ ^[0-9]+$ ]]; then
    _evidence_fail "EVIDENCE_DEVICE_TIMEOUT must be whole seconds, not '$EVIDENCE_DEVICE_TIMEOUT'"
  fi
  deadline=$((SECONDS + EVIDENCE_DEVICE_TIMEOUT))
  until dev=$(find_evidence_device "$letter"); do
    if ((SECONDS >= deadline)); then
      _evidence_fail "device did not appear within ${EVIDENCE_DEVICE_TIMEOUT}s (no /dev/sd$letter, /dev/xvd$letter or EBS NVMe device for it)"
    fi
    sleep 1
  done
  _evidence_log "$2: /dev/sd$letter is $dev"
  _evidence_mount_device "$dev" "$2" "/dev/sd$letter"
}

_evidence_run() { # <device> <snapshot id> <function> <args>...: the function in a subshell under set -e
  local device=$1 snapshot=$2 errexit=0 status
  shift 2
  case $- in *e*) errexit=1 ;; *) ;; esac
  set +e
  (
    set -e
    "$@"
  )
  status=$?
  if ((errexit)); then
    set -e
  fi
  if ((status == 0)); then
    return 0
  fi
  if ((status != EVIDENCE_REPORTED_FAILURE)); then # stopped by set -e: report what is known
    _evidence_reset "$device" "$snapshot" ""
    echo "mount_evidence: $(_evidence_where): unexpected failure (exit $status), see the messages above" >&2
    if ! _evidence_report false "unexpected failure (exit $status)"; then
      echo "mount_evidence: $(_evidence_where): this failure is missing from the report" >&2
    fi
  fi
  return 1
}

mount_evidence() { # <device letter> <snapshot id>: wait for /dev/sd<letter>, mount it read-only, report
  if (($# != 2)); then
    echo "usage: mount_evidence <device letter> <snapshot id>" >&2
    return 2
  fi
  _evidence_run "/dev/sd$1" "$2" _evidence_wait_and_mount "$1" "$2"
}

mount_evidence_device() { # <block device> <snapshot id>: mount that device read-only, report
  if (($# != 2)); then
    echo "usage: mount_evidence_device <block device> <snapshot id>" >&2
    return 2
  fi
  _evidence_run "$1" "$2" _evidence_mount_device "$1" "$2" ""
}

# Run as a command (not when sourced, nor as the user data, which calls the functions itself).
if [[ ${BASH_SOURCE[0]:-} == "$0" && $# -gt 0 ]]; then
  case $1 in
    mount_evidence | mount_evidence_device) "$@" ;;
    *)
      echo "usage: $0 mount_evidence <device letter> <snapshot id>" >&2
      echo "       $0 mount_evidence_device <block device> <snapshot id>" >&2
      exit 2
      ;;
  esac
fi
