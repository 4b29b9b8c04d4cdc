#!/usr/bin/env bash
# The Debian packages, end to end, as root on a CI machine after BUILD_DIR is built: makes them
# (cpack), checks what they hold and their systemd units, installs them, runs the installed
# server from its config as the beatbook user and syncs a record to it from the installed
# field_client, stops it with SIGTERM, takes and verifies the scheduled backup, and purges them
# (the data must stay). Leaves nothing of Beatbook installed, also when a step fails; refuses to
# run where Beatbook is installed or has left data, since it removes what the packages leave.
#   scripts/package-test.sh BUILD_DIR
set -euo pipefail
shopt -s nullglob
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "$1" && pwd)"
conf=/etc/beatbook/sync_server.conf
ss=/usr/bin/sync_server
fc=/usr/bin/field_client
packages=(beatbook-field beatbook-server beatbook-common)

cd /  # the beatbook user must be able to enter the working directory of what it runs

step() { echo "-- $*"; }
fail() { echo "package-test: FAILED: $*" >&2; exit 1; }
# Runs a command as the beatbook user, with that user's environment only. Not runuser: setpriv
# execs the command, so a server started with it in the background is the process $! names and
# gets the SIGTERM sent there itself (runuser stays in between as its parent, kills it in turn
# and ends by the signal, hiding the server's own exit status).
beatbook=(setpriv --reuid=beatbook --regid=beatbook --init-groups --reset-env --)
as_beatbook() { "${beatbook[@]}" "$@"; }

[ "$(id -u)" -eq 0 ] || fail "run as root: it installs packages and makes a system user"
[ -f "$build/CPackConfig.cmake" ] || fail "$build has no CPackConfig.cmake: configure and build it first"
for p in "${packages[@]}"; do
  s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ -z "$s" ] || [ "$s" = not-installed ] || fail "$p is on this machine ($s): not testing here"
done
for d in /var/lib/beatbook /var/backups/beatbook /etc/beatbook; do
  [ ! -e "$d" ] || fail "$d exists: not testing on a machine with Beatbook data"
done
if getent passwd beatbook >/dev/null || getent group beatbook >/dev/null; then
  fail "a beatbook user or group exists: not testing here"
fi
if python3 -c "import json" 2>/dev/null; then json_reader=python3
elif command -v node >/dev/null; then json_reader=node
else fail "neither python3 nor node to read the report's JSON (scripts/install-deps.sh --tests installs node)"
fi

# Beyond scripts/install-deps.sh: systemd-analyze, and adduser for beatbook-server's postinst
# (dpkg -i fetches no dependencies). Only tools; they stay installed.
missing=()
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v adduser >/dev/null || missing+=(adduser)
command -v dpkg-shlibdeps >/dev/null || missing+=(dpkg-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill -KILL "$server_pid" 2>/dev/null || true
  dpkg --purge "${packages[@]}" >/dev/null 2>&1 || dpkg --purge --force-all "${packages[@]}" >/dev/null 2>&1 || true
  rm -rf /var/lib/beatbook /var/backups/beatbook /etc/beatbook
  ! getent passwd beatbook >/dev/null || userdel beatbook || true
  ! getent group beatbook >/dev/null || groupdel beatbook || true
  rm -rf "$work"
}
trap cleanup EXIT

step "making the packages: cpack -G DEB in $build"
(cd "$build" && cpack -G DEB -B "$work/debs") >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack -G DEB failed (its output above)"; }
debs=("$work"/debs/*.deb)
[ ${#debs[@]} -eq 3 ] || fail "cpack made ${#debs[@]} packages, not 3: ${debs[*]##*/}"
deb_of() {  # PACKAGE -> its .deb
  local f=("$work"/debs/"$1"_*.deb)
  [ ${#f[@]} -eq 1 ] || fail "no $1 package among: ${debs[*]##*/}"
  echo "${f[0]}"
}
common=$(deb_of beatbook-common)
server=$(deb_of beatbook-server)
field=$(deb_of beatbook-field)
echo "   ${debs[*]##*/}"

step "what each package holds (dpkg-deb --info, --contents)"
# Each package's paths, one a line, without the leading "." (a file, not a pipe into grep -q,
# whose early exit would fail the pipeline under pipefail).
for d in "$common" "$server" "$field"; do
  dpkg-deb --contents "$d" | awk '{print substr($6, 2)}' >"$d.list"
done
holds() {  # DEB PATH
  grep -qxF "$2" "$1.list" || fail "$(basename "$1") does not hold $2"
}
holds "$server" /usr/bin/sync_server
holds "$field" /usr/bin/field_client
for u in beatbook-server.service beatbook-backup.service beatbook-backup.timer; do
  holds "$server" "/lib/systemd/system/$u"
done
holds "$server" "$conf"
while read -r f; do holds "$common" "/usr/share/beatbook/schema/${f#./}"; done \
  < <(cd "$root/schema" && find . -name '*.json')
[ "$(dpkg-deb --info "$server" conffiles)" = "$conf" ] ||
  fail "beatbook-server's conffiles is not exactly $conf: $(dpkg-deb --info "$server" conffiles 2>&1)"
for s in postinst prerm postrm; do
  dpkg-deb --info "$server" "$s" >/dev/null 2>&1 || fail "beatbook-server has no $s script"
done
version=$(dpkg-deb --field "$common" Version)
[ "$(dpkg-deb --field "$common" Architecture)" = all ] || fail "beatbook-common is not Architecture: all"
for d in "$server" "$field"; do
  depends=$(dpkg-deb --field "$d" Depends)
  [[ "$depends" == *"beatbook-common (= $version)"* ]] ||
    fail "$(basename "$d") does not depend on beatbook-common (= $version): $depends"
done

step "dpkg -i the three packages"
dpkg -i "$common" "$server" "$field" >"$work/dpkg-i.log" 2>&1 ||
  { cat "$work/dpkg-i.log" >&2; fail "dpkg -i failed (its output above)"; }
sed -n 's/^beatbook-server:/   beatbook-server:/p' "$work/dpkg-i.log"
grep -q "edit /etc/beatbook/sync_server.conf" "$work/dpkg-i.log" ||
  fail "postinst did not tell the administrator to edit the config"

step "systemd-analyze verify on the installed units"
units=(/lib/systemd/system/beatbook-server.service /lib/systemd/system/beatbook-backup.service
       /lib/systemd/system/beatbook-backup.timer)
systemd-analyze verify "${units[@]}" >"$work/verify.log" 2>&1 ||
  { cat "$work/verify.log" >&2; fail "systemd-analyze verify failed (its output above)"; }
! grep -q beatbook "$work/verify.log" ||
  { cat "$work/verify.log" >&2; fail "systemd-analyze verify warns about the units (above)"; }
[ ! -s "$work/verify.log" ] || sed 's/^/   (about other units, ignored) /' "$work/verify.log"
# Enabled, without a running systemd too (deb-systemd-helper, part of Essential init-system-helpers).
[ -L /etc/systemd/system/multi-user.target.wants/beatbook-server.service ] ||
  fail "beatbook-server.service is not enabled"
[ -L /etc/systemd/system/timers.target.wants/beatbook-backup.timer ] ||
  fail "beatbook-backup.timer is not enabled"

step "the beatbook user, its directories and the backup key"
getent passwd beatbook >/dev/null || fail "no user beatbook after installing"
for d in /var/lib/beatbook /var/backups/beatbook; do
  [ "$(stat -c '%a %U %G' "$d")" = "700 beatbook beatbook" ] ||
    fail "$d is $(stat -c '%a %U:%G' "$d" 2>&1), not 700 beatbook:beatbook"
done
[ -f /etc/beatbook/backup.key ] || fail "postinst made no /etc/beatbook/backup.key"
[ "$(stat -c '%a %U %G' /etc/beatbook/backup.key)" = "640 root beatbook" ] ||
  fail "/etc/beatbook/backup.key is $(stat -c '%a %U:%G' /etc/beatbook/backup.key), not 640 root:beatbook (never world-readable)"

step "installing beatbook-server again (as an upgrade does) keeps the key"
key_sum=$(sha256sum </etc/beatbook/backup.key)
dpkg -i "$server" >"$work/dpkg-again.log" 2>&1 ||
  { cat "$work/dpkg-again.log" >&2; fail "installing beatbook-server again failed (above)"; }
[ "$(sha256sum </etc/beatbook/backup.key)" = "$key_sum" ] || fail "reinstalling replaced the backup key"

step "the installed server from $conf, as beatbook, on a free loopback port"
# --listen on the command line wins over the config's 127.0.0.1:8080; port 0: the server picks.
"${beatbook[@]}" "$ss" --config "$conf" serve --listen 127.0.0.1:0 >"$work/server.out" \
  2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q "^listening on " "$work/server.out" && break
  kill -0 "$server_pid" 2>/dev/null ||
    { cat "$work/server.err" >&2; fail "the server exited at start-up (its stderr above)"; }
  sleep 0.1
done
addr=$(sed -n "s/^listening on //p" "$work/server.out")
[ -n "$addr" ] || { cat "$work/server.err" >&2; fail "the server printed no 'listening on HOST:PORT' within 10 s"; }
url="http://$addr"
echo "   at $url"

step "a device enrols with a token, logs an outreach contact and syncs it (installed field_client)"
token=$(as_beatbook "$ss" --config "$conf" token --data /var/lib/beatbook --user amy \
  --org street_pastors --role field_worker) || fail "sync_server token failed"
export BEATBOOK_KEY_DIR="$work/keys"  # the device's store key, outside its data
"$fc" init --data "$work/amy" --server "$url" --token "$token" >/dev/null ||
  fail "field_client init with the token failed"
"$fc" log --data "$work/amy" outreach_contact --occurred-at 2023-05-12T23:10:00+01:00 \
  --set place="Jewry Street" --set age_band=18_24 --set safeguarding_concern=no >/dev/null ||
  fail "field_client log outreach_contact failed"
"$fc" sync --data "$work/amy" >/dev/null || fail "field_client sync failed"

step "the store's return counts it (sync_server report --format json)"
as_beatbook "$ss" report --data /var/lib/beatbook --fy 2023 --format json >"$work/report.json" ||
  fail "sync_server report failed"
# The Street Pastors' contacts in Q1 2023/24: the one just synced.
if [ "$json_reader" = python3 ]; then
  figure=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("%g" % next(i["values"]["Q1"] for i in d["indicators"] if i["id"] == sys.argv[2]))' \
    "$work/report.json" pc_street_pastor_interventions) || figure="(none)"
else
  figure=$(node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1]));
console.log(d.indicators.find(i => i.id === process.argv[2]).values.Q1)' \
    "$work/report.json" pc_street_pastor_interventions) || figure="(none)"
fi
[ "$figure" = 1 ] || fail "the return's pc_street_pastor_interventions Q1 is '$figure', not 1"

step "SIGTERM stops the server within 15 s, with exit status 0"
kill -TERM "$server_pid" 2>/dev/null || true  # gone already: wait below gives its status
for _ in $(seq 1 150); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
! kill -0 "$server_pid" 2>/dev/null || fail "the server still runs 15 s after SIGTERM"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" -eq 0 ] ||
  { tail -n 20 "$work/server.err" >&2; fail "the server exited with status $status after SIGTERM, not 0"; }

step "the scheduled backup's command, as beatbook, and verify-backup"
as_beatbook "$ss" --config "$conf" backup >"$work/backup.out" ||
  fail "sync_server --config $conf backup failed"
backups=(/var/backups/beatbook/*)
if [ ${#backups[@]} -ne 1 ] || [ ! -f "${backups[0]}" ]; then
  fail "expected one backup file in /var/backups/beatbook, found ${#backups[@]}: ${backups[*]}"
fi
backup="${backups[0]}"
grep -qF "$(basename "$backup")" "$work/backup.out" ||
  fail "backup did not print the path of the file it wrote ($backup): $(cat "$work/backup.out")"
as_beatbook "$ss" verify-backup --key /etc/beatbook/backup.key "$backup" >/dev/null ||
  fail "sync_server verify-backup refused $backup"
echo "   $backup"

step "dpkg --purge: the programs and units go, the data, backups and key stay"
dpkg --purge "${packages[@]}" >"$work/purge.log" 2>&1 ||
  { cat "$work/purge.log" >&2; fail "dpkg --purge failed (above)"; }
for f in "$ss" "$fc" "${units[@]}" "$conf" /usr/share/beatbook; do
  [ ! -e "$f" ] || fail "$f is still there after purging"
done
leftover=$(find /etc/systemd/system -name 'beatbook-*' 2>/dev/null || true)
[ -z "$leftover" ] || fail "purging left systemd links: $leftover"
[ -n "$(ls -A /var/lib/beatbook)" ] || fail "purging removed the data in /var/lib/beatbook"
[ -f "$backup" ] || fail "purging removed the backup $backup"
[ -f /etc/beatbook/backup.key ] || fail "purging removed the backup key"
grep -q "to remove by hand" "$work/purge.log" || fail "postrm did not say what it kept"

step "removing what purging kept, and the user: the machine as it was"
trap - EXIT
cleanup
! getent passwd beatbook >/dev/null || fail "the beatbook user is still there"
echo "-- packages: all checks passed"
