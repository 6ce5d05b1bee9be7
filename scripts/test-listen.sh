#!/usr/bin/env bash
# `meterwire listen` against real servers and clients (issue 21): Debian's mosquitto broker
# and clients and libcoap's coap-client. Installs them when missing, starts the broker on a
# free loopback port (persistence on, for the restart check), runs the listener and checks:
# CoAP NON/CON/Block1 with a CJ/T 188 reply and an M-Bus frame, MQTT hex and binary
# payloads, published readings, a bad message, a broker restart with nothing lost, MQTT 5.0
# (properties, session expiry), MQTT over
# TLS (a throwaway CA made with openssl: server-only and mutual TLS, a wrong CA refused) and
# the load test (1,000 meters). Every wait is bounded; processes are killed by their PIDs.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export PATH="$PATH:/usr/sbin"
apt_install mosquitto mosquitto
apt_install mosquitto-clients mosquitto_pub
apt_install libcoap3-bin coap-client-notls
apt_install openssl openssl

cargo build -p meterwire-cli -p meterwire-platform --example load --locked
MW="$PWD/target/debug/meterwire"
LOAD="$PWD/target/debug/examples/load"

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { # $1: tcp or udp
    python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[1]=='tcp' else socket.SOCK_DGRAM); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"
}
MQTT_PORT="$(free_port tcp)"
COAP_PORT="$(free_port udp)"
BROKER="mqtt://127.0.0.1:$MQTT_PORT"
OUT="$WORK/listen.ndjson"
LOG="$WORK/listen.log"

fail() {
    echo "FAIL: $*" >&2
    echo "--- listener stderr" >&2; cat "$LOG" >&2 || true
    echo "--- listener stdout (cut)" >&2; cut -c1-300 "$OUT" >&2 || true
    echo "--- broker log" >&2; tail -20 "$WORK/mosquitto.log" >&2 || true
    exit 1
}

# Lines of $OUT holding every fixed string given.
matching() {
    local pattern lines
    lines="$(cat "$OUT")"
    for pattern in "$@"; do
        lines="$(printf '%s\n' "$lines" | grep -F -- "$pattern" || true)"
    done
    printf '%s' "$lines" | grep -c . || true
}

# Waits (10 s at most) until at least $1 lines hold all the strings that follow.
expect_lines() {
    local want="$1" what="$2"
    shift 2
    local tries=0
    while [ "$(matching "$@")" -lt "$want" ]; do
        tries=$((tries + 1))
        [ "$tries" -le 100 ] || fail "$what: want $want line(s) with: $*"
        sleep 0.1
    done
    echo "ok: $what"
}

wait_log() { # waits (15 s at most) for $2 in file $1
    local tries=0
    until grep -qF -- "$2" "$1" 2>/dev/null; do
        tries=$((tries + 1))
        [ "$tries" -le 150 ] || fail "no '$2' in $1"
        sleep 0.1
    done
}

cat > "$WORK/mosquitto.conf" <<CONF
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $WORK/
# The default (1000 queued QoS 1 messages per client) makes the broker drop messages for a
# subscriber that falls behind a burst; a platform broker needs more.
max_queued_messages 100000
CONF
# As root, mosquitto drops to the 'mosquitto' user, which cannot write the temp dir.
[ "$(id -u)" -ne 0 ] || echo "user root" >> "$WORK/mosquitto.conf"
BROKER_PID=""
start_broker() {
    mosquitto -c "$WORK/mosquitto.conf" >>"$WORK/mosquitto.log" 2>&1 &
    BROKER_PID=$!
    PIDS+=("$BROKER_PID")
    local tries=0
    until timeout 2 mosquitto_pub -p "$MQTT_PORT" -t probe -m up 2>/dev/null; do
        tries=$((tries + 1))
        [ "$tries" -le 50 ] || fail "broker did not start"
        sleep 0.1
    done
}
stop_broker() {
    kill -TERM "$BROKER_PID"
    timeout 10 tail --pid="$BROKER_PID" -f /dev/null || fail "broker did not stop"
}

hex_to_file() { # $1 hex, $2 file
    printf "$(printf '%s' "$1" | tr -d ' ' | sed 's/../\\x&/g')" > "$2"
}
CJT188_HEX="FEFE6810785634120001008116901F01563412002C000012002C0030081503252000006F16"
MBUS_HEX="68151568080572785634122D2C01072A0000000C13674523010D16"
hex_to_file "$CJT188_HEX" "$WORK/cjt188.bin"
hex_to_file "$MBUS_HEX" "$WORK/mbus.bin"
[ "$(wc -c < "$WORK/mbus.bin")" -eq 27 ] || fail "mbus.bin is not 27 bytes"

start_broker
echo "ok: mosquitto on 127.0.0.1:$MQTT_PORT"

"$MW" listen --coap "127.0.0.1:$COAP_PORT" --mqtt "$BROKER" --topic 'meters/#' \
    --client-id "meterwire-test-$$" --publish "$BROKER" --publish-topic 'meterwire/{id}' \
    --retain >"$OUT" 2>"$LOG" &
PIDS+=($!)
LISTENER_PID=$!
wait_log "$LOG" "coap: listening on udp 127.0.0.1:$COAP_PORT"
wait_log "$LOG" "mqtt 127.0.0.1:$MQTT_PORT: connected"
sleep 0.3 # the SUBSCRIBE follows the CONNACK

# --- CoAP: NON and CON with both frames, a Block1 upload, a GET (refused).
URI="coap://127.0.0.1:$COAP_PORT/t/d"
coap() { timeout 20 coap-client-notls -B 5 "$@" >/dev/null || fail "coap-client $*"; }
coap -m post -N -f "$WORK/cjt188.bin" "$URI"
coap -m post -N -f "$WORK/mbus.bin" "$URI"
coap -m post -f "$WORK/cjt188.bin" "$URI"
coap -m post -f "$WORK/mbus.bin" "$URI"
coap -m post -b 16 -f "$WORK/cjt188.bin" "$URI"
REPLY="$(timeout 20 coap-client-notls -B 5 -m get "$URI" 2>&1 || true)"
expect_lines 1 "coap NON CJ/T 188 decoded" '"type":"NON"' '"payload_format":"cjt188"' '"id":"00010012345678"' '"exact":"1234.56"'
expect_lines 1 "coap NON M-Bus decoded" '"type":"NON"' '"payload_format":"mbus"' '"id":"12345678"' '"exact":"1234.567"'
expect_lines 2 "coap CON CJ/T 188 decoded (plain and Block1)" '"type":"CON"' '"payload_format":"cjt188"' '"id":"00010012345678"' '"exact":"1234.56"'
expect_lines 1 "coap CON M-Bus decoded" '"type":"CON"' '"payload_format":"mbus"' '"id":"12345678"' '"exact":"1234.567"'
expect_lines 5 "coap lines carry received and peer" '{"received":"' '"peer":"127.0.0.1:' '"protocol":"coap"'
expect_lines 1 "coap GET is one error line with the peer" '"peer":"127.0.0.1:' '"error":{"kind":"method"'
case "$REPLY" in *4.05*) echo "ok: GET answered 4.05" ;; *) fail "GET reply: $REPLY" ;; esac

# --- MQTT: hex text and binary payloads.
timeout 10 mosquitto_pub -p "$MQTT_PORT" -q 1 -t meters/hex -m "$CJT188_HEX" || fail "mosquitto_pub hex"
timeout 10 mosquitto_pub -p "$MQTT_PORT" -q 1 -t meters/bin -f "$WORK/mbus.bin" || fail "mosquitto_pub binary"
expect_lines 1 "mqtt hex payload decoded" '"topic":"meters/hex","qos":1,"retain":false' '"payload_format":"cjt188"' '"id":"00010012345678"' '"exact":"1234.56"'
expect_lines 1 "mqtt binary payload decoded" '"topic":"meters/bin","qos":1' '"payload_format":"mbus"' '"id":"12345678"' '"exact":"1234.567"'

# --- Published readings (retained, so a late subscriber gets them).
READING="$(timeout 10 mosquitto_sub -p "$MQTT_PORT" -C 1 -t meterwire/00010012345678 || true)"
case "$READING" in *'"id":"00010012345678"'*'1234.56'*) echo "ok: reading published: $READING" ;; *) fail "reading of 00010012345678: '$READING'" ;; esac
READING="$(timeout 10 mosquitto_sub -p "$MQTT_PORT" -C 1 -t meterwire/12345678 || true)"
case "$READING" in *'"id":"12345678"'*'1234.567'*) echo "ok: reading published: $READING" ;; *) fail "reading of 12345678: '$READING'" ;; esac

# --- Broker restart: QoS 1 messages published while the listener is away all arrive.
stop_broker
echo "ok: broker stopped"
sleep 1
start_broker
echo "ok: broker restarted"
for n in $(seq 1 20); do
    timeout 10 mosquitto_pub -p "$MQTT_PORT" -q 1 -t "meters/restart/$n" -m "$MBUS_HEX" || fail "publish after restart $n"
done
for n in $(seq 1 20); do
    expect_lines 1 "restart message $n" "\"topic\":\"meters/restart/$n\"" '"id":"12345678"' >/dev/null
done
[ "$(matching '"topic":"meters/restart/')" -eq 20 ] || fail "restart messages: $(matching '"topic":"meters/restart/') lines, want 20"
echo "ok: 20 QoS 1 messages after the broker restart, none lost, none twice"
kill -0 "$LISTENER_PID" || fail "listener stopped"
grep -q 'reconnecting' "$LOG" || fail "listener did not report the lost broker"
grep -q 'session present: true' "$LOG" || fail "the broker did not keep the listener's session"
echo "ok: the listener reconnected to its persistent session"

# --- --keys FILE and --reading: an AES-128-CBC payload opened with the key of the device
# the Uri-Path names, printed as a flat reading.
KEY="000102030405060708090A0B0C0D0E0F"
printf '# per-device keys\n860000000000001=%s\n' "$KEY" > "$WORK/keys.txt"
openssl enc -aes-128-cbc -K "$KEY" -iv 00000000000000000000000000000000 \
    -in "$WORK/mbus.bin" -out "$WORK/mbus.enc"
COAP_PORT2="$(free_port udp)"
OUT="$WORK/reading.ndjson"
"$MW" listen --coap "127.0.0.1:$COAP_PORT2" --reading --keys "$WORK/keys.txt" \
    --cipher aes-128-cbc >"$OUT" 2>"$WORK/reading.log" &
PIDS+=($!)
wait_log "$WORK/reading.log" "coap: listening on udp 127.0.0.1:$COAP_PORT2"
coap -m post -f "$WORK/mbus.enc" "coap://127.0.0.1:$COAP_PORT2/t/860000000000001"
expect_lines 1 "--keys/--reading: encrypted payload read as a flat reading" '{"media":"water","id":"12345678"' '"protocol":"coap","total_m3":1234.567' '"timestamp":"'

# --- --redact-key: the same upload printed for a third party: the meter id, the device id in
# the Uri-Path and the meter's IP address become keyed pseudonyms (the peer's is checked
# against an independent HMAC-SHA256), the values stay.
printf 'a secret of at least sixteen bytes' > "$WORK/redact.key"
PEER_PSEUDONYM="$(python3 -c "import hmac,hashlib,sys; print(hmac.new(open(sys.argv[1],'rb').read(), b'127.0.0.1', hashlib.sha256).hexdigest()[:24])" "$WORK/redact.key")"
COAP_PORT3="$(free_port udp)"
OUT="$WORK/redacted.ndjson"
"$MW" listen --coap "127.0.0.1:$COAP_PORT3" --keys "$WORK/keys.txt" --cipher aes-128-cbc \
    --redact-key "$WORK/redact.key" >"$OUT" 2>"$WORK/redacted.log" &
PIDS+=($!)
wait_log "$WORK/redacted.log" "coap: listening on udp 127.0.0.1:$COAP_PORT3"
coap -m post -f "$WORK/mbus.enc" "coap://127.0.0.1:$COAP_PORT3/t/860000000000001"
expect_lines 1 "--redact-key: the peer's pseudonym, the value kept" "\"peer\":\"$PEER_PSEUDONYM\"" '"exact":"1234.567"'
if grep -q -e 12345678 -e 860000000000001 -e 127.0.0.1 "$OUT"; then
    fail "--redact-key: an identity survived in $(cat "$OUT")"
fi
echo "ok: --redact-key: no meter id, device id or IP address in the line"

# --- --username/--password against a broker that refuses anonymous clients.
AUTH_PORT="$(free_port tcp)"
mosquitto_passwd -b -c "$WORK/passwords" meter-platform 's3cret' >/dev/null 2>&1
cat > "$WORK/auth.conf" <<CONF
listener $AUTH_PORT 127.0.0.1
allow_anonymous false
password_file $WORK/passwords
CONF
[ "$(id -u)" -ne 0 ] || echo "user root" >> "$WORK/auth.conf"
mosquitto -c "$WORK/auth.conf" >"$WORK/auth.log" 2>&1 &
PIDS+=($!)
OUT="$WORK/auth.ndjson"
"$MW" listen --mqtt "mqtt://127.0.0.1:$AUTH_PORT" --topic 'meters/#' --client-id "meterwire-auth-$$" \
    --username meter-platform --password 's3cret' >"$OUT" 2>"$WORK/auth-listen.log" &
PIDS+=($!)
wait_log "$WORK/auth-listen.log" "mqtt 127.0.0.1:$AUTH_PORT: connected"
sleep 0.3
timeout 10 mosquitto_pub -p "$AUTH_PORT" -u meter-platform -P 's3cret' -q 1 -t meters/auth -m "$MBUS_HEX" \
    || fail "mosquitto_pub with a password"
expect_lines 1 "--username/--password: message decoded" '"topic":"meters/auth"' '"id":"12345678"' '"exact":"1234.567"'

# --- MQTT 5.0 (--mqtt-version 5): a PUBLISH's properties in the model, readings published
# with 5.0, and a session that outlives the listener (session expiry interval).
v5_listener() {
    "$MW" listen --mqtt "$BROKER" --topic 'meters5/#' --mqtt-version 5 --client-id "meterwire-v5-$$" \
        --publish "$BROKER" --publish-topic 'meterwire5/{id}' --retain >>"$OUT" 2>>"$LOG" &
    V5_PID=$!
    PIDS+=("$V5_PID")
    wait_log "$LOG" "mqtt 127.0.0.1:$MQTT_PORT: connected with MQTT 5.0 as meterwire-v5-$$ (session present: $1)"
    wait_log "$LOG" "publish 127.0.0.1:$MQTT_PORT: connected"
    sleep 0.3
}
OUT="$WORK/v5.ndjson"
LOG="$WORK/v5-listen.log"
v5_listener false
timeout 10 mosquitto_pub -V mqttv5 -p "$MQTT_PORT" -q 1 -t meters5/props -m "$MBUS_HEX" \
    -D publish content-type text/plain -D publish user-property imei 860000000000001 \
    || fail "mosquitto_pub -V mqttv5"
expect_lines 1 "mqtt 5.0: payload decoded, properties in the model" '"topic":"meters5/props"' '"version":"5.0"' \
    '"name":"content_type","value":"text/plain"' '"name":"user_property","key":"imei","value":"860000000000001"' \
    '"payload_format":"mbus"' '"id":"12345678"' '"exact":"1234.567"'
READING="$(timeout 10 mosquitto_sub -V mqttv5 -p "$MQTT_PORT" -C 1 -t meterwire5/12345678 || true)"
case "$READING" in *'"id":"12345678"'*'1234.567'*) echo "ok: reading published with MQTT 5.0: $READING" ;; *) fail "reading over MQTT 5.0: '$READING'" ;; esac
kill "$V5_PID"
wait "$V5_PID" 2>/dev/null || true
for n in 1 2 3; do
    timeout 10 mosquitto_pub -V mqttv5 -p "$MQTT_PORT" -q 1 -t "meters5/away/$n" -m "$CJT188_HEX" || fail "publish while away $n"
done
v5_listener true
for n in 1 2 3; do
    expect_lines 1 "mqtt 5.0: message $n sent while the listener was away" "\"topic\":\"meters5/away/$n\"" '"id":"00010012345678"' >/dev/null
done
echo "ok: mqtt 5.0: the session outlived the listener, 3 queued messages delivered"
LOG="$WORK/listen.log"

# --- TLS (mqtts://): a throwaway CA signs the broker's certificate (localhost, 127.0.0.1) and
# a client certificate; another CA signs nothing the broker shows. One mosquitto serves TLS
# on one port and mutual TLS with a password on another.
tls_ca() { # $1: name
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$WORK/$1.key" -out "$WORK/$1.pem" -subj "/CN=meterwire test $1" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        2>/dev/null || fail "openssl: CA $1"
}
tls_cert() { # $1: name, $2: common name, $3: extensions; signed by ca
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$WORK/$1.key" -out "$WORK/$1.csr" -subj "/CN=$2" 2>/dev/null || fail "openssl: key $1"
    printf '%s\n' "basicConstraints=CA:FALSE" "$3" > "$WORK/$1.ext"
    openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
        -days 2 -extfile "$WORK/$1.ext" -out "$WORK/$1.pem" 2>/dev/null || fail "openssl: certificate $1"
}
tls_ca ca
tls_ca other-ca
tls_cert server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1"$'\n'"extendedKeyUsage=serverAuth"
tls_cert client meter-platform "extendedKeyUsage=clientAuth"
TLS_PORT="$(free_port tcp)"
MTLS_PORT="$(free_port tcp)"
cat > "$WORK/tls.conf" <<CONF
per_listener_settings true
listener $TLS_PORT 127.0.0.1
certfile $WORK/server.pem
keyfile $WORK/server.key
allow_anonymous true
listener $MTLS_PORT 127.0.0.1
cafile $WORK/ca.pem
certfile $WORK/server.pem
keyfile $WORK/server.key
require_certificate true
allow_anonymous false
password_file $WORK/passwords
CONF
[ "$(id -u)" -ne 0 ] || echo "user root" >> "$WORK/tls.conf"
mosquitto -c "$WORK/tls.conf" >"$WORK/tls-broker.log" 2>&1 &
PIDS+=($!)
TLS_PUB=(-h 127.0.0.1 -p "$TLS_PORT" --cafile "$WORK/ca.pem")
tries=0
until timeout 2 mosquitto_pub "${TLS_PUB[@]}" -t probe -m up 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -le 50 ] || { cat "$WORK/tls-broker.log" >&2; fail "TLS broker did not start"; }
    sleep 0.1
done
echo "ok: mosquitto with TLS on 127.0.0.1:$TLS_PORT, mutual TLS on 127.0.0.1:$MTLS_PORT"

OUT="$WORK/tls.ndjson"
LOG="$WORK/tls-listen.log"
"$MW" listen --mqtt "mqtts://127.0.0.1:$TLS_PORT" --topic 'meters/#' --ca "$WORK/ca.pem" \
    --client-id "meterwire-tls-$$" --publish "mqtts://127.0.0.1:$TLS_PORT" \
    --publish-topic 'tls/{id}' --retain >"$OUT" 2>"$LOG" &
PIDS+=($!)
wait_log "$LOG" "mqtt 127.0.0.1:$TLS_PORT: connected over TLS"
wait_log "$LOG" "publish 127.0.0.1:$TLS_PORT: connected"
sleep 0.3
timeout 10 mosquitto_pub "${TLS_PUB[@]}" -q 1 -t meters/tls -m "$MBUS_HEX" || fail "mosquitto_pub over TLS"
expect_lines 1 "mqtts: hex payload over TLS decoded" "\"peer\":\"127.0.0.1:$TLS_PORT\"" '"topic":"meters/tls"' '"payload_format":"mbus"' '"id":"12345678"' '"exact":"1234.567"'
READING="$(timeout 10 mosquitto_sub "${TLS_PUB[@]}" -C 1 -t tls/12345678 || true)"
case "$READING" in *'"id":"12345678"'*'1234.567'*) echo "ok: reading published over TLS: $READING" ;; *) fail "reading over TLS: '$READING'" ;; esac

# Mutual TLS with a password: the listener shows its client certificate.
OUT="$WORK/mtls.ndjson"
LOG="$WORK/mtls-listen.log"
"$MW" listen --mqtt "mqtts://127.0.0.1:$MTLS_PORT" --topic 'meters/#' --ca "$WORK/ca.pem" \
    --client-cert "$WORK/client.pem" --client-key "$WORK/client.key" \
    --username meter-platform --password 's3cret' --client-id "meterwire-mtls-$$" >"$OUT" 2>"$LOG" &
PIDS+=($!)
wait_log "$LOG" "mqtt 127.0.0.1:$MTLS_PORT: connected over TLS"
sleep 0.3
timeout 10 mosquitto_pub -h 127.0.0.1 -p "$MTLS_PORT" --cafile "$WORK/ca.pem" --cert "$WORK/client.pem" \
    --key "$WORK/client.key" -u meter-platform -P 's3cret' -q 1 -t meters/mtls -f "$WORK/cjt188.bin" \
    || fail "mosquitto_pub over mutual TLS"
expect_lines 1 "mqtts: binary payload over mutual TLS with a password decoded" '"topic":"meters/mtls"' '"payload_format":"cjt188"' '"id":"00010012345678"' '"exact":"1234.56"'

# A CA that did not sign the broker's certificate: an error line, retries, no crash.
OUT="$WORK/badca.ndjson"
LOG="$WORK/badca-listen.log"
"$MW" listen --mqtt "mqtts://127.0.0.1:$TLS_PORT" --ca "$WORK/other-ca.pem" \
    --client-id "meterwire-badca-$$" >"$OUT" 2>"$LOG" &
PIDS+=($!)
BADCA_PID=$!
wait_log "$LOG" "mqtt 127.0.0.1:$TLS_PORT: TLS: "
wait_log "$LOG" "invalid peer certificate: UnknownIssuer; reconnecting in"
kill -0 "$BADCA_PID" || fail "listener with a wrong CA stopped"
grep -q "connected" "$LOG" && fail "listener with a wrong CA connected"
echo "ok: a wrong CA is a TLS error line: $(head -1 "$LOG")"
# A client certificate the broker wants but does not get: refused, reported.
"$MW" listen --mqtt "mqtts://127.0.0.1:$MTLS_PORT" --ca "$WORK/ca.pem" \
    --username meter-platform --password 's3cret' --client-id "meterwire-nocert-$$" \
    >"$WORK/nocert.ndjson" 2>"$WORK/nocert.log" &
PIDS+=($!)
wait_log "$WORK/nocert.log" "mqtt 127.0.0.1:$MTLS_PORT: "
wait_log "$WORK/nocert.log" "reconnecting in"
grep -q "connected" "$WORK/nocert.log" && fail "listener without a client certificate connected"
echo "ok: no client certificate for a mutual TLS broker is an error line: $(head -1 "$WORK/nocert.log")"
LOG="$WORK/listen.log"

# --- Load: 1,000 meters, one CoAP CON and one MQTT PUBLISH each.
timeout 60 "$LOAD" --mqtt "$BROKER" --meters 1000 || fail "load test"
echo "test-listen: all passed"
