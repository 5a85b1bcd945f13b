// Runs inside the Chromium page. MQTT.js's browser bundle (the global `mqtt`)
// connects to the broker over WebSocket, subscribes to <prefix>/# at QoS 2,
// tells the driver it is subscribed (so that a client outside the browser may
// publish now), publishes to <prefix>/page at QoS 0, 1 and 2 and waits until
// its own three messages and the outside client's messages have arrived.
//
// Everything here is bounded by timeoutMs: a round trip that cannot finish
// rejects with what it has seen so far instead of hanging the test.
'use strict';

// The WebSockets the page opened, so that the report can show which
// subprotocol the broker selected (the browser does not expose the handshake
// any other way). Installed before the bundle loads, so MQTT.js uses it.
const stellwerkSockets = [];
window.WebSocket = class RecordedWebSocket extends window.WebSocket {
  constructor(...args) {
    super(...args);
    stellwerkSockets.push(this);
  }
};

function stellwerkWithin(promise, timeoutMs, what) {
  let timer;
  const expired = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)),
                       timeoutMs);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function stellwerkUntil(condition, timeoutMs, describe) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = () => {
      if (condition()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting: ${describe()}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

async function stellwerkPublishOwn(client, prefix, version) {
  // v5 only: a user property that the subscriber outside the browser checks.
  const properties = version === 5 ? { userProperties: { origin: 'browser' } } : undefined;
  for (const qos of [0, 1, 2]) {
    await client.publishAsync(`${prefix}/page`, `page qos ${qos}`, { qos, properties });
  }
}

// The driver's entry point. Returns { granted, received, subprotocols }.
async function stellwerkRoundTrip({ url, version, clientId, prefix, externalCount, timeoutMs }) {
  const options = { protocolVersion: version, clientId, clean: true, reconnectPeriod: 0,
                    connectTimeout: timeoutMs };
  // allowRetries=false: a refused or failed WebSocket rejects instead of waiting.
  const client = await stellwerkWithin(mqtt.connectAsync(url, options, false), timeoutMs,
                                       'connect');
  try {
    const received = [];
    client.on('message', (topic, payload, packet) => received.push({
      topic, qos: packet.qos, payload: payload.toString(),
      userProperties: (packet.properties && packet.properties.userProperties) || null,
    }));
    const granted = await stellwerkWithin(client.subscribeAsync(`${prefix}/#`, { qos: 2 }),
                                          timeoutMs, 'subscribe');
    await window.stellwerkSubscribed();
    await stellwerkWithin(stellwerkPublishOwn(client, prefix, version), timeoutMs, 'publish');
    const expected = 3 + externalCount;
    const progress = () => `${received.length} of ${expected}: ${JSON.stringify(received)}`;
    await stellwerkUntil(() => received.length >= expected, timeoutMs, progress);
    return { granted: granted.map((grant) => grant.qos), received,
             subprotocols: stellwerkSockets.map((socket) => socket.protocol) };
  } finally {
    await stellwerkWithin(client.endAsync(), timeoutMs, 'disconnect').catch(() => client.end(true));
  }
}
