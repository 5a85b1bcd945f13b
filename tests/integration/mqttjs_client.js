// MQTT.js interoperability probe, run by test_mqttjs.py: connects to the
// broker given on the command line, subscribes at QoS 2, publishes one
// message at each QoS and checks that all three come back intact (with user
// properties for MQTT 5). Prints one JSON line and exits 0 on success.
'use strict';

const mqtt = require('mqtt');

const [port, protocolVersion] = process.argv.slice(2).map(Number);
const topic = `mqttjs/v${protocolVersion}/t`;
const timeout = setTimeout(() => fail('timed out'), 8000);

function fail(message) {
  console.log(JSON.stringify({ ok: false, error: String(message) }));
  process.exit(1);
}

function expectedProperties(qos) {
  return protocolVersion === 5 ? { userProperties: { sender: 'mqtt.js', qos: String(qos) } } : undefined;
}

async function main() {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    protocolVersion,
    clientId: `mqttjs-${protocolVersion}`,
    clean: true,
    reconnectPeriod: 0,
  });
  const received = [];
  client.on('message', (messageTopic, payload, packet) => {
    received.push({
      topic: messageTopic,
      payload: payload.toString(),
      qos: packet.qos,
      userProperties: packet.properties ? packet.properties.userProperties : undefined,
    });
  });
  const granted = await client.subscribeAsync(topic, { qos: 2 });
  for (const qos of [0, 1, 2]) {
    await client.publishAsync(topic, `hello qos ${qos}`, { qos, properties: expectedProperties(qos) });
  }
  while (received.length < 3) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await client.endAsync();
  clearTimeout(timeout);
  received.sort((a, b) => a.qos - b.qos);
  console.log(JSON.stringify({ ok: true, granted: granted.map((g) => g.qos), received }));
}

main().catch(fail);
