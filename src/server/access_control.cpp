#include "server/access_control.h"

#include "base/log.h"

namespace stellwerk::server {
namespace {

auth::ClientIdentity to_auth(const broker::ClientIdentity& identity) {
  auth::ClientIdentity out{identity.client_id, std::nullopt};
  if (identity.username) out.username = std::string_view(*identity.username);
  return out;
}

}  // namespace

Result<std::unique_ptr<FileAccessControl>, std::string> FileAccessControl::load(const std::string& password_file,
                                                                              const std::string& acl_file,
                                                                              Verdict on_verdict) {
  std::shared_ptr<const auth::PasswordFile> passwords;
  if (!password_file.empty()) {
    auto loaded = auth::PasswordFile::load(password_file);
    if (!loaded) return fail(loaded.error().describe());
    passwords = std::make_shared<const auth::PasswordFile>(std::move(loaded).value());
  }
  std::shared_ptr<const auth::AclFile> acl;
  if (!acl_file.empty()) {
    auto loaded = auth::AclFile::load(acl_file);
    if (!loaded) return fail(loaded.error().describe());
    acl = std::make_shared<const auth::AclFile>(std::move(loaded).value());
  }
  return std::unique_ptr<FileAccessControl>(
      new FileAccessControl(std::move(passwords), std::move(acl), std::move(on_verdict)));
}

FileAccessControl::FileAccessControl(std::shared_ptr<const auth::PasswordFile> passwords,
                                     std::shared_ptr<const auth::AclFile> acl, Verdict on_verdict)
    : passwords_(std::move(passwords)), acl_(std::move(acl)), on_verdict_(std::move(on_verdict)) {
  if (passwords_) checker_ = std::make_unique<auth::CredentialChecker>(passwords_);
}

std::optional<bool> FileAccessControl::authenticate(uint64_t connection, const broker::ClientIdentity& identity,
                                                    const std::optional<std::string>& password) {
  // Anonymous clients were already judged by allow_anonymous; without a
  // password file a user name is taken as given (mosquitto 2).
  if (!identity.username || !checker_) return true;
  const std::string secret = password.value_or("");
  if (checker_->recently_verified(*identity.username, secret)) return true;
  auto queued = checker_->check(*identity.username, secret,
                                [this, connection](bool accepted) { on_verdict_(connection, accepted); });
  if (!queued) {
    log::warning("Password checks are queued too deep; refusing user '{}'.", *identity.username);
    return false;
  }
  return std::nullopt;
}

bool FileAccessControl::can_publish(const broker::ClientIdentity& identity, std::string_view topic) const {
  if (auth::is_sys_topic(topic)) return false;
  return !acl_ || acl_->can_publish(to_auth(identity), topic);
}

bool FileAccessControl::can_subscribe(const broker::ClientIdentity& identity, std::string_view filter) const {
  return !acl_ || acl_->can_subscribe(to_auth(identity), filter);
}

bool FileAccessControl::can_read(const broker::ClientIdentity& identity, std::string_view topic) const {
  return !acl_ || acl_->can_read(to_auth(identity), topic);
}

}  // namespace stellwerk::server
