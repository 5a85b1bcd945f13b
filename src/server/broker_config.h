// Maps the file-level Config onto the Broker's own settings.
#pragma once

#include "broker/broker.h"
#include "config/config.h"

namespace stellwerk::server {

broker::BrokerConfig make_broker_config(const config::Config& config);

}  // namespace stellwerk::server
