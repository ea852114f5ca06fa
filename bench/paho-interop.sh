#!/usr/bin/env bash
# Runs the Eclipse Paho interoperability tests (client_test.py for MQTT 3.1.1,
# client_test5.py for MQTT 5, from a checkout of eclipse/paho.mqtt.testing)
# against a vmq node started here on 127.0.0.1, with the settings the tests
# take for granted. Needs python3 and a build (npm run build).
#
#   bench/paho-interop.sh /path/to/paho.mqtt.testing [port]
#
# PAHO_LOGS=dir keeps the suites' and the node's logs there.
# The suites call unittest.main() after reading their own options, which then
# refuses them; they are run from a copy in which it gets no arguments.
#
# test_subscribe_failure wants a subscription to test/nosubscribe refused while
# # and +/+ are allowed, which an allow-only ACL cannot say. With
# NOSUBSCRIBE_HOOK=1 a webhook endpoint started here answers
# auth_on_subscribe(_m5) with QoS 128 for that filter (as in VerneMQ, 0x80 in
# the SUBACK at both protocol levels) and ok for the others.
set -euo pipefail

paho=${1:?usage: bench/paho-interop.sh /path/to/paho.mqtt.testing [port]}
port=${2:-18830}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
node_pid=
hook_pid=

cleanup () {
  if [ -n "${PAHO_LOGS:-}" ]; then mkdir -p "$PAHO_LOGS"; cp "$work"/*.log "$PAHO_LOGS"/ 2>/dev/null || true; fi
  if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; fi
  if [ -n "$hook_pid" ]; then kill "$hook_pid" 2>/dev/null || true; wait "$hook_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cp -r "$paho/interoperability" "$work/interop"
sed -i 's/^    unittest.main()$/    unittest.main(argv=[sys.argv[0]], exit=False)/' "$work/interop/client_test.py" "$work/interop/client_test5.py"

hooks=
if [ "${NOSUBSCRIBE_HOOK:-0}" = 1 ]; then
  node -e '
const http = require("node:http")
const server = http.createServer((req, res) => {
  let body = ""
  req.on("data", d => { body += d })
  req.on("end", () => {
    const topics = (JSON.parse(body || "{}").topics || []).map(t => ({ topic: t.topic, qos: t.topic === "test/nosubscribe" ? 128 : t.qos }))
    res.setHeader("content-type", "application/json")
    res.setHeader("cache-control", "max-age=300")
    if (!topics.some(t => t.qos === 128)) { res.end(JSON.stringify({ result: "ok" })); return }
    res.end(JSON.stringify(req.headers["vernemq-hook"] === "auth_on_subscribe_m5" ? { result: "ok", modifiers: { topics } } : { result: "ok", topics }))
  })
})
server.listen(0, "127.0.0.1", () => { console.log(server.address().port) })
  ' > "$work/hook.port" &
  hook_pid=$!
  for _ in $(seq 1 100); do [ -s "$work/hook.port" ] && break; sleep 0.1; done
  hook_port=$(cat "$work/hook.port")
  hooks="plugins.vmq_webhooks = on
vmq_webhooks.nosubscribe.hook = auth_on_subscribe
vmq_webhooks.nosubscribe.endpoint = http://127.0.0.1:$hook_port/
vmq_webhooks.nosubscribe5.hook = auth_on_subscribe_m5
vmq_webhooks.nosubscribe5.endpoint = http://127.0.0.1:$hook_port/"
fi

# test_server_keep_alive expects Server Keep Alive 60, test_server_topic_alias
# topic aliases towards the client, test_flow_control2 a Receive Maximum its
# client can exceed (it has at most 65,534 packet ids in flight)
cat > "$work/vmq.conf" <<EOF
nodename = paho@127.0.0.1
listener.tcp.default = 127.0.0.1:$port
listener.vmq.clustering = 127.0.0.1:0
allow_anonymous = on
plugins.vmq_passwd = off
plugins.vmq_acl = off
persistent_dir = $work/data
log.console.level = warning
max_keepalive = 60
topic_alias_max_client = 10
receive_max_broker = 20
$hooks
EOF

node "$repo/bin/run.js" start -c "$work/vmq.conf" > "$work/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 1 100); do
  grep -q "listener mqtt tcp.default" "$work/node.log" && break
  kill -0 "$node_pid" 2>/dev/null || { cat "$work/node.log"; exit 1; }
  sleep 0.1
done

cd "$work/interop"
status=0
for suite in client_test.py client_test5.py; do
  echo "== $suite"
  timeout 900 python3 -u "$suite" -p "$port" > "$work/$suite.log" 2>&1 || status=1
  grep -E '^(FAIL|ERROR): test|^Ran |^OK|^FAILED' "$work/$suite.log" || { tail -20 "$work/$suite.log"; status=1; }
done
exit $status
