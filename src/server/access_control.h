// The broker's AccessControl on top of src/auth: mosquitto's password file
// (hashes checked on the CredentialChecker's threads, never on an event loop)
// and ACL file.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "auth/acl_file.h"
#include "auth/credential_checker.h"
#include "auth/password_file.h"
#include "base/result.h"
#include "broker/access.h"

namespace stellwerk::server {

class FileAccessControl final : public broker::AccessControl {
 public:
  // Called on a checker thread with a pending verdict.
  using Verdict = std::function<void(uint64_t connection, bool accepted)>;

  // The parsed files; either may be absent (no password file: user names are
  // taken as given; no ACL file: every topic is allowed).
  struct Files {
    std::shared_ptr<const auth::PasswordFile> passwords;
    std::shared_ptr<const auth::AclFile> acl;
  };
  // Reads the files named (either may be empty). Fails with "file:line: why".
  static Result<Files, std::string> load_files(const std::string& password_file, const std::string& acl_file);
  static Result<std::unique_ptr<FileAccessControl>, std::string> load(const std::string& password_file,
                                                                      const std::string& acl_file,
                                                                      Verdict on_verdict);
  // A reload: later checks use `files`; a password check already running
  // finishes against the old file. Call it where the broker's calls are
  // serialised (the broker lock), as every other member is.
  void replace(Files files);

  std::optional<bool> authenticate(uint64_t connection, const broker::ClientIdentity& identity,
                                   const std::optional<std::string>& password) override;
  bool can_publish(const broker::ClientIdentity& identity, std::string_view topic) const override;
  bool can_subscribe(const broker::ClientIdentity& identity, std::string_view filter) const override;
  bool can_read(const broker::ClientIdentity& identity, std::string_view topic) const override;

 private:
  FileAccessControl(Files files, Verdict on_verdict);

  std::shared_ptr<const auth::PasswordFile> passwords_;  // swapped by replace()
  std::shared_ptr<const auth::AclFile> acl_;              // swapped by replace()
  std::unique_ptr<auth::CredentialChecker> checker_;
  Verdict on_verdict_;

 public:
  // SCRAM-SHA-256 (auth/scram.h) over the password file as it is when the
  // exchange starts; null for other methods or without a password file.
  std::unique_ptr<broker::AuthExchange> start_exchange(std::string_view method) override;
};

}  // namespace stellwerk::server
