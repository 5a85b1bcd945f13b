"""A blocking face for paho-mqtt 1.6.1 (Debian's python3-paho-mqtt).

paho runs its network loop in a thread and reports through callbacks; the
tests want "connect, then subscribe, then expect this message within 5 s".
This wrapper turns the callbacks into events and a message queue, for
MQTT 3.1, 3.1.1 and 5 alike (paho numbers them 3, 4, 5 as the protocol level).
"""

import queue
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCodes
from paho.mqtt.subscribeoptions import SubscribeOptions

TIMEOUT_S = 5.0


def publish_properties(**fields):
    """v5 PUBLISH properties from paho's attribute names, e.g.
    UserProperty=[("k", "v")], MessageExpiryInterval=10."""
    return _properties(PacketTypes.PUBLISH, fields)


def connect_properties(**fields):
    return _properties(PacketTypes.CONNECT, fields)


def will_properties(**fields):
    return _properties(PacketTypes.WILLMESSAGE, fields)


def subscribe_properties(**fields):
    return _properties(PacketTypes.SUBSCRIBE, fields)


def _properties(packet_type, fields):
    props = Properties(packet_type)
    for name, value in fields.items():
        setattr(props, name, value)
    return props


class PahoClient:
    def __init__(self, broker, version, client_id="", clean=True, keepalive=60):
        self.broker = broker
        self.version = version
        self.clean = clean
        self.keepalive = keepalive
        self.client = mqtt.Client(client_id=client_id, protocol=version,
                                  clean_session=None if version == 5 else clean,
                                  reconnect_on_failure=False)
        self.messages = queue.Queue()
        self.connack = None
        self.disconnect_rc = None
        self._connected = threading.Event()
        self._disconnected = threading.Event()
        self._subacks = {}
        self._suback_lock = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = lambda _client, _userdata, message: self.messages.put(message)
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = self._on_subscribe

    # -- callbacks (paho's network thread)
    def _on_connect(self, _client, _userdata, flags, rc, properties=None):
        self.connack = {"flags": flags, "rc": rc, "properties": properties}
        self._connected.set()

    def _on_disconnect(self, _client, _userdata, rc, properties=None):
        self.disconnect_rc = rc
        self._disconnected.set()

    def _on_subscribe(self, _client, _userdata, mid, *result):
        with self._suback_lock:
            self._subacks[mid] = result[0] if result else None
            self._suback_lock.notify_all()

    # -- blocking operations
    def will_set(self, topic, payload, qos=0, retain=False, properties=None):
        self.client.will_set(topic, payload, qos, retain, properties)

    def connect(self, properties=None):
        """Connects and returns the CONNACK return/reason code (0 = accepted)."""
        kwargs = {"clean_start": self.clean, "properties": properties} if self.version == 5 else {}
        self.client.connect(self.broker.host, self.broker.port, self.keepalive, **kwargs)
        self.client.loop_start()
        assert self._connected.wait(TIMEOUT_S), "no CONNACK"
        return self.connack["rc"]

    def session_present(self):
        return bool(self.connack["flags"].get("session present"))

    def subscribe(self, topic, qos=0, properties=None, **options):
        """Subscribes and waits for the SUBACK; returns its granted QoS or
        reason codes. v5 options: noLocal, retainAsPublished, retainHandling."""
        if self.version == 5:
            result, mid = self.client.subscribe(
                topic, options=SubscribeOptions(qos=qos, **options), properties=properties)
        else:
            result, mid = self.client.subscribe(topic, qos)
        assert result == mqtt.MQTT_ERR_SUCCESS
        return self._wait_ack(mid)

    def unsubscribe(self, topic):
        result, mid = self.client.unsubscribe(topic)
        assert result == mqtt.MQTT_ERR_SUCCESS
        return self._wait_ack(mid)

    def _wait_ack(self, mid):
        with self._suback_lock:
            assert self._suback_lock.wait_for(lambda: mid in self._subacks, TIMEOUT_S), \
                "no SUBACK/UNSUBACK"
            return self._subacks.pop(mid)

    def publish(self, topic, payload=b"", qos=0, retain=False, properties=None):
        """Publishes and waits until the QoS flow is complete."""
        info = self.client.publish(topic, payload, qos, retain, properties)
        info.wait_for_publish(TIMEOUT_S)
        assert info.is_published(), f"publish to {topic} not completed"

    def expect_message(self, timeout=TIMEOUT_S):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message within {timeout}s") from None

    def expect_no_message(self, timeout=0.5):
        try:
            message = self.messages.get(timeout=timeout)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected message on {message.topic}: {message.payload!r}")

    def drain(self, timeout=0.5):
        """All messages that arrive until timeout passes with none."""
        messages = []
        while True:
            try:
                messages.append(self.messages.get(timeout=timeout))
            except queue.Empty:
                return messages

    def wait_disconnected(self, timeout=TIMEOUT_S):
        return self._disconnected.wait(timeout)

    def disconnect(self, reason_code=None, properties=None):
        if self.version == 5 and reason_code is not None:
            self.client.disconnect(ReasonCodes(PacketTypes.DISCONNECT, identifier=reason_code),
                                   properties)
        else:
            self.client.disconnect()
        self._disconnected.wait(TIMEOUT_S)
        self.client.loop_stop()

    def close(self):
        """Stops the network thread; safe to call twice."""
        if self.client.is_connected():
            self.client.disconnect()
            self._disconnected.wait(TIMEOUT_S)
        self.client.loop_stop()
