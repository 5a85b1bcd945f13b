// MQTT.js as a SCRAM-SHA-256 client, run by test_scram.py. MQTT.js has no
// SCRAM of its own: the CONNECT carries client-first in
// properties.authenticationData, client.handleAuth answers the server's
// AUTH 0x18 (server-first) with client-final, and the CONNACK's
// Authentication Data (server-final) is checked against the ServerSignature
// computed here, so the broker proves it holds the verifier. The SCRAM maths
// follows RFC 5802 section 3 with node's crypto.
//
// Usage: node scram_client.js PORT USER PASSWORD
// Prints one JSON line: {ok, reason, serverVerified, roundTrip, ...}.
'use strict';

const crypto = require('crypto');
const mqtt = require('mqtt');

const METHOD = 'SCRAM-SHA-256';
const [port, username, password] = process.argv.slice(2);
const timeout = setTimeout(() => report({ ok: false, error: 'timed out' }, 1), 8000);

function report(result, code) {
  clearTimeout(timeout);
  console.log(JSON.stringify(result));
  process.exit(code);
}

const hmac = (key, text) => crypto.createHmac('sha256', key).update(text).digest();
const sha256 = (data) => crypto.createHash('sha256').update(data).digest();
const escapeName = (name) => name.replace(/=/g, '=3D').replace(/,/g, '=2C');

// One client exchange: first() once, then final(serverFirst), then verify(serverFinal).
function scramClient(user, secret) {
  const clientNonce = crypto.randomBytes(18).toString('base64');
  const firstBare = `n=${escapeName(user)},r=${clientNonce}`;
  let expectedSignature = null;
  return {
    first: () => `n,,${firstBare}`,
    final(serverFirst) {
      const fields = Object.fromEntries(serverFirst.split(',').map((f) => [f[0], f.slice(2)]));
      if (!fields.r.startsWith(clientNonce)) throw new Error('server nonce does not extend ours');
      const salted = crypto.pbkdf2Sync(secret, Buffer.from(fields.s, 'base64'), Number(fields.i), 32, 'sha256');
      const clientKey = hmac(salted, 'Client Key');
      const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${fields.r}`;
      const authMessage = `${firstBare},${serverFirst},${withoutProof}`;
      const signature = hmac(sha256(clientKey), authMessage);
      const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]));
      expectedSignature = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64');
      return `${withoutProof},p=${proof.toString('base64')}`;
    },
    verify: (serverFinal) => expectedSignature !== null && serverFinal === `v=${expectedSignature}`,
  };
}

async function roundTrip(client) {
  const topic = `${username}/scram`;
  const received = new Promise((resolve) => client.on('message', (t, payload) => resolve(payload.toString())));
  await client.subscribeAsync(topic, { qos: 1 });
  await client.publishAsync(topic, 'via scram', { qos: 1 });
  return received;
}

function main() {
  const scram = scramClient(username, password);
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 5,
    clientId: `scram-${username}`,
    reconnectPeriod: 0,
    properties: { authenticationMethod: METHOD, authenticationData: Buffer.from(scram.first()) },
  });
  const exchange = { authPackets: 0 };
  client.handleAuth = (packet, callback) => {
    exchange.authPackets += 1;
    exchange.authMethod = packet.properties.authenticationMethod;
    try {
      const data = scram.final(packet.properties.authenticationData.toString());
      callback(null, {
        cmd: 'auth',
        reasonCode: 0x18,
        properties: { authenticationMethod: METHOD, authenticationData: Buffer.from(data) },
      });
    } catch (error) {
      callback(error);
    }
  };
  client.on('error', (error) => {
    client.end(true);
    report({ ok: false, reason: error.code, error: error.message, ...exchange }, 0);
  });
  client.on('connect', async (connack) => {
    const properties = connack.properties || {};
    const serverFinal = properties.authenticationData ? properties.authenticationData.toString() : '';
    const result = {
      ok: true,
      reason: connack.reasonCode,
      connackMethod: properties.authenticationMethod,
      serverVerified: scram.verify(serverFinal),
      ...exchange,
    };
    result.roundTrip = await roundTrip(client);
    await client.endAsync();
    report(result, 0);
  });
}

main();
