// A broker over a real store on an in-memory file system, attached before
// restore() as the server does (so what the restore itself does is stored),
// that can crash: everything committed is written, then the broker vanishes
// without a goodbye, as after kill -9.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "broker_harness.h"
#include "store/memory_env.h"
#include "store/store.h"

namespace stellwerk::broker::testing {

class StoredBrokerTest : public ::testing::Test {
 protected:
  // Opens the store and a fresh broker restored from it.
  void start() {
    store::Options options;
    options.dir = "/store";
    auto opened = store::Store::open(env, options);
    ASSERT_TRUE(opened.ok());
    store = std::move(opened.value().store);
    harness = std::make_unique<BrokerHarness>(config);
    harness->broker.attach_store(store.get());
    harness->broker.restore(opened.value().state, harness->clock.now());
  }
  void crash() {
    harness.reset();
    store.reset();
  }
  // A CONNECT whose session outlives the connection (v5: for an hour).
  static mqtt::Connect persistent(const std::string& id, mqtt::Version version) {
    mqtt::Connect c;
    c.version = version;
    c.client_id = id;
    c.clean_start = false;
    if (version == mqtt::Version::v5) c.properties.session_expiry_interval = 3600;
    return c;
  }

  BrokerConfig config;  // of every broker start() makes
  store::MemoryEnv env;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<BrokerHarness> harness;
};

}  // namespace stellwerk::broker::testing
