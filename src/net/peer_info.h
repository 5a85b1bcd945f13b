// What a connection's transports learned about the peer, handed to the
// handler once through ConnectionHandler::on_peer_info.
//
// A plain TCP connection has no transports and gets no on_peer_info: its
// PeerAddress in on_open is all there is. With transports, the call comes when
// every layer has finished its handshake (PROXY header read, TLS handshake
// done, WebSocket upgrade answered) and before the first on_data.
#pragma once

#include <string>

namespace stellwerk::net {

// The remote end as text: "127.0.0.1:5555" or "[::1]:5555".
struct PeerAddress {
  std::string text;
};

struct PeerInfo {
  // The real peer: from the PROXY header when there is one, else the socket's.
  PeerAddress address;
  bool via_proxy = false;  // a PROXY header named the peer (not a LOCAL/UNKNOWN one)

  bool tls = false;
  std::string tls_version;  // "TLSv1.3"
  std::string tls_cipher;   // "TLS_AES_256_GCM_SHA384"
  // Of a client certificate that passed verification, else empty.
  // certificate_subject is RFC 2253 text ("CN=alice,O=Example"), as mosquitto's
  // use_subject_as_username expects; certificate_common_name feeds
  // use_identity_as_username.
  std::string certificate_subject;
  std::string certificate_common_name;
  std::string psk_identity;  // the identity of a TLS-PSK handshake, else empty

  bool websocket = false;
  std::string websocket_subprotocol;  // the one answered: "mqtt", "mqttv3.1" or ""
  std::string websocket_path;         // the request target: "/mqtt"
};

}  // namespace stellwerk::net
