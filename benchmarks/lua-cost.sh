#!/usr/bin/env bash
# What Redis's Lua costs on this machine, for the drain of a detached tag index and for a put:
# starts a throw-away redis-server on a free port, writes 10,000 entries in tagcache's layout
# (1,100-byte values, each with the drained tag, a tag of its own and one of 10 shared tags), then
# times, with INFO commandstats, script bodies that each do one more step of the drain's work per
# entry, the real drain.lua until the index is empty, and put.lua (re-puts with 0 and 3 tags)
# against an empty script, 20,000 calls each from redis-benchmark.
#   bash benchmarks/lua-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LUA=tagcache-spring-boot-autoconfigure/src/main/resources/io/tagcache/redis
DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --dir "$DIR" \
  --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
trap 'redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
cli() { redis-cli -p "$PORT" "$@"; }
until cli ping >/dev/null 2>&1; do sleep 0.1; done

SETUP=$(cat <<'LUA'
local v = string.rep('x', 1100)
local expiry = redis.call('TIME')[1] * 1000 + 600000
for i = 1, 10000 do
  local key = tostring(i)
  redis.call('SET', 'b:{u}:e:' .. key, '0io.tagcache.benchmarks.User\tbig\tuser-' .. key .. '\tloc-' .. (i % 10)
    .. '\n' .. v, 'PX', 600000)
  redis.call('ZADD', 'b:{u}:t:big', expiry, key)
  redis.call('ZADD', 'b:{u}:t:user-' .. key, expiry, key)
  redis.call('PEXPIREAT', 'b:{u}:t:user-' .. key, expiry)
  redis.call('ZADD', 'b:{u}:t:loc-' .. (i % 10), expiry, key)
end
return 1
LUA
)
cli EVAL "$SETUP" 0 >/dev/null

# usec of one EVAL of the body, as INFO commandstats reports it (median of 3)
time_body() {
  local runs=()
  for _ in 1 2 3; do
    cli CONFIG RESETSTAT >/dev/null
    cli EVAL "$1" 0 >/dev/null
    runs+=("$(cli INFO commandstats | sed -n 's/^cmdstat_eval:calls=1,usec=\([0-9]*\),.*/\1/p')")
  done
  printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p
}

echo "| Work per entry, 10,000 entries in one script | us in all | us per entry |"
echo "|---|---|---|"
row() { local us; us=$(time_body "$2"); echo "| $1 | $us | $(awk -v u="$us" 'BEGIN { printf "%.2f", u / 10000 }') |"; }
row "build the key string (\`..\`)" "local e = {} for i = 1, 10000 do e[i] = 'b:{u}:e:' .. i end return 1"
row "plus one \`redis.call('EXISTS', key)\`" "for i = 1, 10000 do redis.call('EXISTS', 'b:{u}:e:' .. i) end return 1"
row "plus \`GETRANGE key 0 255\` (the header)" "for i = 1, 10000 do redis.call('GETRANGE', 'b:{u}:e:' .. i, 0, 255) end return 1"
row "\`MGET\` of 64 whole entries at a time instead" "for i = 1, 10000, 64 do local g = {} for j = i, math.min(i + 63, 10000) do g[#g + 1] = 'b:{u}:e:' .. j end redis.call('MGET', unpack(g)) end return 1"
row "\`GETRANGE\`, then parse the header's tags" "for i = 1, 10000 do local h = redis.call('GETRANGE', 'b:{u}:e:' .. i, 0, 255) for t in string.gmatch(string.sub(h, 1, string.find(h, '\n', 1, true) - 1), '\t([^\t]+)') do end end return 1"

DRAIN=$(cli SCRIPT LOAD "$(cat "$LUA/lib.lua")
$(cat "$LUA/drain.lua")")
cli RENAME "b:{u}:t:big" "b:{u}:d:1:big" >/dev/null
cli CONFIG RESETSTAT >/dev/null
calls=0
while :; do
  calls=$((calls + 1))
  left=$(cli EVALSHA "$DRAIN" 2 "b:{u}:d:1:big" "b:{u}:detached" "b:{u}:" big 2000 1000 | tail -1)
  [ "$left" = "0" ] && break
done
echo
echo "drain.lua (1 ms budget) removed 10,000 entries in $calls calls; INFO commandstats:"
cli INFO commandstats | grep -v '^#' | grep -v 'cmdstat_config\|cmdstat_rename\|cmdstat_script' | sed 's/,rejected_calls.*//'
echo "keys left: $(cli DBSIZE)"

# put.lua, called as the client calls it, against an empty script (usec_per_call of EVALSHA)
PUT=$(cli SCRIPT LOAD "$(cat "$LUA/lib.lua")
$(cat "$LUA/put.lua")")
EMPTY=$(cli SCRIPT LOAD "return 1")
ENTRY=$(printf '0io.tagcache.benchmarks.User\tuser-1\tloc-1\tteam-1\n%s' "$(head -c 1100 /dev/zero | tr '\0' 'x')")
evalsha_usec() {
  cli CONFIG RESETSTAT >/dev/null
  redis-benchmark -p "$PORT" -n 20000 -c 1 -q "$@" >/dev/null
  cli INFO commandstats | sed -n 's/^cmdstat_evalsha:.*usec_per_call=\([0-9.]*\),.*/\1/p'
}
echo
echo "| Script (20,000 calls, one client) | EVALSHA usec_per_call |"
echo "|---|---|"
echo "| \`return 1\` | $(evalsha_usec EVALSHA "$EMPTY" 0) |"
echo "| put.lua, re-put of one key, no tag | $(evalsha_usec EVALSHA "$PUT" 2 'b:{p}:e:1' 'b:{p}:fence' 'b:{p}:' 1 "$ENTRY" 600000 '' '') |"
echo "| put.lua, re-put of one key, 3 tags | $(evalsha_usec EVALSHA "$PUT" 5 'b:{p}:e:1' 'b:{p}:fence' 'b:{p}:t:user-1' 'b:{p}:t:loc-1' 'b:{p}:t:team-1' 'b:{p}:' 1 "$ENTRY" 600000 '' '' user-1 loc-1 team-1) |"
echo
echo "Commands inside the 3-tag puts (calls, usec_per_call):"
cli INFO commandstats | grep -v '^#' | grep -v 'cmdstat_config\|cmdstat_evalsha' | sed 's/,rejected_calls.*//'
