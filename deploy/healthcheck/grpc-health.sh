#!/usr/bin/env bash
# grpc.health.v1.Health/Check over plaintext HTTP/2 (h2c) in bash alone, for a container
# healthcheck where no gRPC probe program is installed (Kubernetes has its own: grpc probes).
#
#   grpc-health.sh [--host HOST] [--timeout SECONDS] PORT [SERVICE]
#
# Exits 0 when SERVICE ("" by default: the server as a whole) answers SERVING, 1 when it
# answers anything else, fails, or does not answer within the timeout (3 s by default).
# Point it at the server's plaintext --health-port: a TLS gRPC port does not speak h2c.
set -euo pipefail
export LC_ALL=C
host=127.0.0.1
wait_s=3
while [ $# -gt 0 ]; do
  case "$1" in
    --host) host="$2"; shift 2 ;;
    --timeout) wait_s="$2"; shift 2 ;;
    *) break ;;
  esac
done
port="${1:?usage: grpc-health.sh [--host HOST] [--timeout SECONDS] PORT [SERVICE]}"
service="${2:-}"
# the request is written with printf: no % or \ in what goes into it
case "$host$service" in
  *%*|*\\*) echo "grpc-health: no % or \\ in the host or the service name" >&2; exit 2 ;;
esac
if [ ${#service} -gt 127 ]; then
  echo "grpc-health: a service name of at most 127 bytes" >&2
  exit 2
fi

# printf escapes: one byte; a frame header (24-bit length, type, flags, stream id)
byte() { printf '\\x%02x' "$1"; }
frame() {
  byte $(($1 >> 16 & 255)); byte $(($1 >> 8 & 255)); byte $(($1 & 255)); byte "$2"; byte "$3"
  byte $(($4 >> 24 & 255)); byte $(($4 >> 16 & 255)); byte $(($4 >> 8 & 255)); byte $(($4 & 255))
}
# HPACK: a literal field without indexing whose name is static table entry $1 (< 15)
field() { byte "$1"; byte "${#2}"; printf '%s' "$2"; }

# :method POST (static 3), :scheme http (6), :path (4), :authority (1),
# content-type (31: 15 in the prefix, 16 after it), te: trailers (a new name)
headers="$(byte 0x83)$(byte 0x86)$(field 4 /grpc.health.v1.Health/Check)$(field 1 "$host:$port")"
headers+="$(byte 0x0f)$(byte 16)$(byte 16)application/grpc$(byte 0)$(byte 2)te$(byte 8)trailers"
# HealthCheckRequest { string service = 1; } behind gRPC's 5-byte prefix (not compressed, length)
message=""
[ -z "$service" ] || message="$(byte 0x0a)$(byte ${#service})$service"
message_len=$(printf "$message" | wc -c)

request='PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
request+="$(frame 0 4 0 0)"                                          # SETTINGS: none changed
request+="$(frame "$(printf "$headers" | wc -c)" 1 4 1)$headers"     # HEADERS, END_HEADERS, stream 1
request+="$(frame $((5 + message_len)) 0 1 1)$(byte 0)$(byte 0)$(byte 0)$(byte 0)$(byte "$message_len")$message"

exec 3<>"/dev/tcp/$host/$port" || exit 1
printf "$request" >&3

# Read the answer until the response message or the end of stream 1. Bash cannot hold a NUL
# byte, so read up to each NUL (-d '') and put the NUL back in the record.
seen=""
deadline=$((SECONDS + wait_s))
while [ "$SECONDS" -le "$deadline" ]; do
  chunk=""
  status=0
  IFS= read -r -d '' -t 0.2 chunk <&3 || status=$?
  for ((i = 0; i < ${#chunk}; i++)); do
    printf -v h ' %02x' "'${chunk:i:1}"
    seen+="$h"
  done
  [ "$status" -ne 0 ] || seen+=" 00"
  case "$seen" in
    # DATA on stream 1, 7 bytes: gRPC's prefix (not compressed, length 2), then status = 1 (SERVING)
    *" 00 00 07 00 00 00 00 00 01 00 00 00 00 02 08 01"*) exit 0 ;;
    # ... any other status (NOT_SERVING, SERVICE_UNKNOWN)
    *" 00 00 07 00 00 00 00 00 01 00 00 00 00 02 08 "*) exit 1 ;;
    # HEADERS with END_STREAM and END_HEADERS on stream 1 and no message: an error (NOT_FOUND: no such service)
    *" 01 05 00 00 00 01"*) exit 1 ;;
  esac
  [ "$status" -le 128 ] || continue   # timed out: go on until the deadline
  [ "$status" -eq 0 ] || break        # end of the connection
done
exit 1
