#!/usr/bin/env bash
# The main job, end to end on one machine: a sync_server on the embedded SQLite store, field
# devices of several partners logging offline, syncing, and the coordinator's view of the result.
#   scripts/demo.sh            # sets up (apt), builds, runs; leaves its files in ./demo
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build" >/dev/null

fc="$root/build/field_client/field_client"
ss="$root/build/sync_server/sync_server"
work="$root/demo"
rm -rf "$work"
mkdir -p "$work"

say() { printf '\n== %s ==\n' "$*"; }
# Waits (at most 10 s) until FILE has a line starting with PREFIX; prints the rest of that line.
line_after() {  # FILE PREFIX
  for _ in $(seq 1 100); do
    grep -q "^$2" "$1" 2>/dev/null && break
    sleep 0.1
  done
  sed -n "s/^$2//p" "$1"
}
# Devices without PINs keep their store keys outside their data (in the account's home by
# default); the demo keeps them in its own folder.
export BEATBOOK_KEY_DIR="$work/keys"

say "starting sync_server on 127.0.0.1 (embedded SQLite store in demo/central)"
"$ss" serve --data "$work/central" --listen 127.0.0.1:0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
url="http://$(line_after "$work/server.out" "listening on ")"
echo "server at $url"

enrol() {  # name org role
  local token
  token=$("$ss" token --data "$work/central" --user "$1" --org "$2" --role "$3")
  "$fc" init --data "$work/$1" --server "$url" --token "$token"
}

say "enrolling field devices with one-time tokens"
enrol amy street_pastors field_worker    # a Street Pastor
enrol omar street_reach field_worker     # an outreach worker
enrol pc_jones police field_worker       # a patrol officer
enrol sam csp field_worker               # takes residents' surveys
enrol hana wcc_housing partner_lead      # enters WCC Housing's returns
enrol cleo csp coordinator               # the partnership coordinator

say "logging offline (no sync yet) across the quarters of 2023/24"
# Q1 to Q4 of the financial year 2023/24, in local time (BST in summer).
dates=(2023-05-12T23:10:00+01:00 2023-08-19T22:40:00+01:00 2023-11-25T01:15:00Z 2024-02-17T23:55:00Z)
for d in "${dates[@]}"; do
  "$fc" log --data "$work/amy" outreach_contact --occurred-at "$d" --set place="Jewry Street" \
    --set age_band=18_24 --set issues=vulnerable_nte --set support_given=water,safe_escort \
    --subject-name "Alex Example" --subject-dob 2002-03-14 \
    --set safeguarding_concern=no >/dev/null
  "$fc" log --data "$work/amy" outreach_contact --occurred-at "$d" --set place="The Broadway" \
    --set age_band=under_18 --set issues=substance_misuse --set referrals=drug_alcohol_service \
    --set safeguarding_concern=yes >/dev/null
  "$fc" log --data "$work/omar" outreach_contact --occurred-at "$d" --set place="Station Hill" \
    --set age_band=35_49 --set issues=domestic_abuse,rough_sleeping --set referrals=stop,wcc_housing \
    --subject-name "Sam Example ${d:5:2}" --subject-dob 1981-07-01 \
    --set support_given=signposting --set safeguarding_concern=yes >/dev/null
  "$fc" log --data "$work/pc_jones" patrol --occurred-at "$d" --set place="High Street" \
    --set patrol_type=op_fortress --set engagements=12 >/dev/null
  "$fc" log --data "$work/pc_jones" enforcement_action --occurred-at "$d" --set action=dvpn >/dev/null
  "$fc" log --data "$work/pc_jones" street_brief --occurred-at "$d" --set place="Market Lane" \
    --set attendees=9 --set topics=asb,nte >/dev/null
done
# A morning's surveys, imported in bulk from the survey app's JSON.
python3 - "$work/surveys.json" <<'PY'
import json, sys
rows = [{"form": "satisfaction_survey", "occurred_at": "2023-07-%02dT1%d:00:00+01:00" % (1 + i % 28, i % 8),
         "fields": {"respondent_type": ["resident", "business", "visitor"][i % 3],
                    "satisfaction": 1 + (i * 7) % 5, "feel_safe_day": 4, "voice_listened": "yes"}}
        for i in range(40)]
json.dump(rows, open(sys.argv[1], "w"))
PY
"$fc" log --data "$work/sam" --json "$work/surveys.json" | wc -l | xargs echo "surveys imported:"
for qv in Q1:3 Q2:5 Q3:2; do
  q=${qv%:*}
  "$fc" log --data "$work/hana" indicator_return --set indicator=pc_housing_drug_interventions \
    --set fy=2023 --set quarter=$q --set value=${qv#*:} >/dev/null
  "$fc" log --data "$work/hana" indicator_return --set indicator=da_daha_progress \
    --set fy=2023 --set quarter=$q --set status=in_progress >/dev/null
done
"$fc" status --data "$work/amy"

say "a tablet shared by the night shift: two Street Pastors, each signing in with a PIN"
for worker in pat:4821 quinn:7356; do
  token=$("$ss" token --data "$work/central" --user "${worker%:*}" --org street_pastors \
    --role field_worker)
  FIELD_CLIENT_PIN=${worker#*:} "$fc" init --data "$work/night_tablet" --server "$url" \
    --token "$token"
  FIELD_CLIENT_PIN=${worker#*:} "$fc" log --data "$work/night_tablet" outreach_contact \
    --occurred-at 2023-09-09T23:30:00+01:00 --set place="St George's Street" \
    --set age_band=25_34 --set issues=vulnerable_nte --set support_given=safe_escort \
    --set safeguarding_concern=no >/dev/null
done
FIELD_CLIENT_PIN=0000 "$fc" list --data "$work/night_tablet" || true  # a wrong PIN opens nothing
echo "store files hold no record text: $(grep -rc "St George" "$work/night_tablet" | \
  awk -F: '{n += $2} END {print n + 0}') matches"

say "syncing every device"
for dev in amy omar pc_jones sam hana cleo; do
  printf '%-9s ' "$dev"
  "$fc" sync --data "$work/$dev"
done
say "a second sync is a no-op"
"$fc" sync --data "$work/amy"
for pin in 4821 7356; do FIELD_CLIENT_PIN=$pin "$fc" sync --data "$work/night_tablet"; done

say "enrolled devices (sync_server devices)"
"$ss" devices --data "$work/central"

say "what the coordinator's device now holds, per form"
"$fc" list --data "$work/cleo" --json | python3 -c '
import json, sys, collections
recs = json.load(sys.stdin)["records"]
for form, n in sorted(collections.Counter(r["form"] for r in recs).items()):
    print(f"  {form:22} {n:4}")
print("  %-22s %4d" % ("total", len(recs)))'

say "what WCC Housing still owes, on its lead's tablet (field_client owed)"
"$fc" owed --data "$work/hana" --fy 2023

say "the coordinator approves Q1 (told who still owes what), then a late Q1 record arrives"
"$ss" approve --data "$work/central" --fy 2023 --quarter Q1 --user cleo
"$fc" log --data "$work/pc_jones" enforcement_action --occurred-at 2023-06-30T22:00:00+01:00 \
  --set action=closure_order >/dev/null
"$fc" sync --data "$work/pc_jones"

say "the quarterly return 2023/24 (sync_server report; also: field_client report on cleo's device)"
"$fc" report --data "$work/cleo" --fy 2023
"$fc" report --data "$work/cleo" --fy 2023 --format csv >"$work/return-2023.csv"
"$ss" report --data "$work/central" --fy 2023 --format xlsx --out "$work/return-2023.xlsx"
echo "CSV and Excel copies: demo/return-2023.csv, demo/return-2023.xlsx"

say "the coordinator's dashboard, served by sync_server itself"
status=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).status)' \
  "$url/dashboard/")
echo "GET $url/dashboard/ -> $status"
code=$("$ss" token --data "$work/central" --user cleo --org csp --role coordinator)
board=$("$ss" token --data "$work/central" --user bea --org csp --role board)
echo "open $url/dashboard/ and sign in with a one-time code:"
echo "  coordinator (cleo):   $code"
echo "  board member (bea):   $board"

say "the worker's app on amy's tablet, served by field_client itself (works with no network)"
"$fc" app --data "$work/amy" --listen 127.0.0.1:0 >"$work/app.out" 2>"$work/app.err" &
app_pid=$!
trap 'kill $server_pid $app_pid 2>/dev/null || true' EXIT
app_url=$(line_after "$work/app.out" "app at ")
echo "amy's app:   $app_url"
echo "dashboard:   $url/dashboard/"
if [ -t 0 ]; then
  echo "the server and amy's app keep running; press Ctrl-C to stop them"
  wait "$server_pid" || true
fi
