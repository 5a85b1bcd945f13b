#include "server/access_control.h"

#include "auth/scram.h"
#include "base/log.h"

namespace stellwerk::server {
namespace {

auth::ClientIdentity to_auth(const broker::ClientIdentity& identity) {
  return auth::ClientIdentity{identity.client_id, identity.username};
}

// A connection waits for at most one check, so the queue is bounded by the
// connections anyway: a reconnect storm should queue, not be refused. The
// cache holds one entry (about 100 bytes) per recently verified client, so
// that a fleet reconnecting after a network blip costs one SHA-256 each.
auth::CredentialChecker::Options checker_options() {
  auth::CredentialChecker::Options options;
  options.threads = 2;
  options.queue_limit = 100'000;
  options.cache_limit = 100'000;
  return options;
}

}  // namespace

Result<FileAccessControl::Files, std::string> FileAccessControl::load_files(const std::string& password_file,
                                                                           const std::string& acl_file) {
  Files files;
  if (!password_file.empty()) {
    auto loaded = auth::PasswordFile::load(password_file);
    if (!loaded) return fail(loaded.error().describe());
    files.passwords = std::make_shared<const auth::PasswordFile>(std::move(loaded).value());
  }
  if (!acl_file.empty()) {
    auto loaded = auth::AclFile::load(acl_file);
    if (!loaded) return fail(loaded.error().describe());
    files.acl = std::make_shared<const auth::AclFile>(std::move(loaded).value());
  }
  return files;
}

Result<std::unique_ptr<FileAccessControl>, std::string> FileAccessControl::load(const std::string& password_file,
                                                                              const std::string& acl_file,
                                                                              Verdict on_verdict) {
  auto files = load_files(password_file, acl_file);
  if (!files) return fail(files.error());
  return std::unique_ptr<FileAccessControl>(new FileAccessControl(std::move(files).value(), std::move(on_verdict)));
}

FileAccessControl::FileAccessControl(Files files, Verdict on_verdict)
    : passwords_(std::move(files.passwords)),
      acl_(std::move(files.acl)),
      // Always present, so a reload can add a password file to a broker that
      // started without one.
      checker_(std::make_unique<auth::CredentialChecker>(passwords_, checker_options())),
      on_verdict_(std::move(on_verdict)) {}

void FileAccessControl::replace(Files files) {
  passwords_ = std::move(files.passwords);
  acl_ = std::move(files.acl);
  checker_->reload(passwords_);  // also forgets every cached success
}

std::optional<bool> FileAccessControl::authenticate(uint64_t connection, const broker::ClientIdentity& identity,
                                                    const std::optional<std::string>& password) {
  // Anonymous clients were already judged by allow_anonymous; without a
  // password file a user name is taken as given (mosquitto 2).
  if (!identity.username || !passwords_) return true;
  const std::string secret = password.value_or("");
  if (checker_->recently_verified(*identity.username, secret)) return true;
  auto queued = checker_->check(std::string(*identity.username), secret,
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

namespace {

// Looks users up in one password file snapshot.
auth::ScramLookup lookup_in(std::shared_ptr<const auth::PasswordFile> passwords) {
  return [passwords = std::move(passwords)](std::string_view username) -> std::optional<auth::PasswordHash> {
    const auth::PasswordHash* hash = passwords->find(username);
    if (!hash) return std::nullopt;
    return *hash;
  };
}

// The broker's view of one SCRAM exchange. The exchange keeps the file it
// started with, so a reload in the middle cannot mix two verifiers.
class ScramExchange final : public broker::AuthExchange {
 public:
  explicit ScramExchange(std::shared_ptr<const auth::PasswordFile> passwords)
      : server_(lookup_in(std::move(passwords)), auth::random_scram_nonce, auth::scram_process_secret()) {}

  Step step(std::string_view client_data) override {
    auth::ScramStep scram = server_.step(client_data);
    Step out;
    out.server_data = std::move(scram.server_data);
    out.outcome = scram.outcome == auth::ScramOutcome::proceed   ? Outcome::proceed
                  : scram.outcome == auth::ScramOutcome::success ? Outcome::success
                                                                 : Outcome::failure;
    if (out.outcome == Outcome::success) out.username = server_.username();
    return out;
  }

 private:
  auth::ScramServer server_;
};

}  // namespace

std::unique_ptr<broker::AuthExchange> FileAccessControl::start_exchange(std::string_view method) {
  std::shared_ptr<const auth::PasswordFile> passwords = passwords_;
  if (method != auth::kScramSha256Method || !passwords) return nullptr;
  return std::make_unique<ScramExchange>(std::move(passwords));
}

}  // namespace stellwerk::server
