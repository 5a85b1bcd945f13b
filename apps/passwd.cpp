// `stellwerk passwd`: mosquitto_passwd's command line over the auth module's
// password file editor. Usage, messages and exit codes follow mosquitto 2.0's
// tool, so scripts written for it keep working:
//
//   stellwerk passwd [-H hash] [-I iterations] [-c | -D] passwordfile username
//   stellwerk passwd [-H hash] [-I iterations] [-c] -b passwordfile username password
//   stellwerk passwd [-H hash] [-I iterations] -U passwordfile
//
// Additions: -H argon2id, -H scram-sha-256 (a SCRAM verifier, usable for MQTT 5
// enhanced authentication and for plain passwords alike), -I (PBKDF2
// iterations, mosquitto 2.1's flag; also SCRAM's iteration count). The
// password is prompted for twice on stdout and read from stdin without echo
// when stdin is a terminal. The file is replaced atomically (temporary file,
// fsync, rename) and always has mode 0600: it is as sensitive as a shadow file.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/password_file_editor.h"
#include "auth/password_hash.h"
#include "auth/text_lines.h"
#include "commands_passwd.h"
#include "mqtt/validate.h"

namespace {

namespace auth = stellwerk::auth;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitPasswordMismatch = 2;  // mosquitto_passwd's code for it

struct PasswdOptions {
  bool batch = false;
  bool create = false;
  bool remove = false;
  bool upgrade = false;
  auth::HashSettings hash;
  std::vector<std::string> arguments;  // passwordfile [username [password]]
};

// A command line problem: the message, or the usage text when it is empty.
struct UsageError {
  std::string message;
};

void print_usage() {
  std::fputs(
      "stellwerk passwd is a tool for managing password files for Stellwerk and mosquitto.\n\n"
      "Usage: stellwerk passwd [-H sha512 | -H sha512-pbkdf2 | -H argon2id | -H scram-sha-256] "
      "[-I iterations] [-c | -D] passwordfile username\n"
      "       stellwerk passwd [-H sha512 | -H sha512-pbkdf2 | -H argon2id | -H scram-sha-256] "
      "[-I iterations] [-c] -b passwordfile username password\n"
      "       stellwerk passwd -U passwordfile\n"
      " -b : run in batch mode to allow passing passwords on the command line.\n"
      " -c : create a new password file. This will overwrite existing files.\n"
      " -D : delete the username rather than adding/updating its password.\n"
      " -H : specify the hashing algorithm. Defaults to sha512-pbkdf2, which is recommended.\n"
      "      sha512 is for mosquitto 1.6 and earlier; argon2id is not read by mosquitto 2.0.\n"
      "      scram-sha-256 also allows MQTT 5 SCRAM-SHA-256 authentication; mosquitto does not read it.\n"
      " -I : PBKDF2 iterations for sha512-pbkdf2 (default 101, as mosquitto 2.0)\n"
      "      and scram-sha-256 (default 4096).\n"
      " -U : update a plain text password file to use hashed passwords.\n",
      stdout);
}

std::optional<auth::HashScheme> parse_scheme(std::string_view name) {
  if (name == "sha512-pbkdf2") return auth::HashScheme::sha512_pbkdf2;
  if (name == "sha512") return auth::HashScheme::sha512;
  if (name == "argon2id") return auth::HashScheme::argon2id;
  if (name == "scram-sha-256") return auth::HashScheme::scram_sha256;
  return std::nullopt;
}

// Applies the value of -H or -I; the problem when the value is invalid.
std::optional<UsageError> apply_valued_flag(std::string_view flag, std::string_view value,
                                            PasswdOptions& options) {
  if (flag == "-H") {
    const std::optional<auth::HashScheme> scheme = parse_scheme(value);
    if (!scheme) return UsageError{fmt::format("Error: Unknown hash type '{}'", value)};
    options.hash.scheme = *scheme;
    return std::nullopt;
  }
  int iterations = 0;
  const auto [end, failure] = std::from_chars(value.data(), value.data() + value.size(), iterations);
  if (failure != std::errc{} || end != value.data() + value.size() || iterations < 1) {
    return UsageError{fmt::format("Error: Invalid number of iterations '{}'.", value)};
  }
  options.hash.iterations = iterations;
  options.hash.scram_iterations = iterations;
  return std::nullopt;
}

// Flags first, as mosquitto_passwd reads them; the rest are arguments.
stellwerk::Result<PasswdOptions, UsageError> parse_flags(int argc, char** argv) {
  PasswdOptions options;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "-b") {
      options.batch = true;
    } else if (flag == "-c") {
      options.create = true;
    } else if (flag == "-D") {
      options.remove = true;
    } else if (flag == "-U") {
      options.upgrade = true;
    } else if (flag == "-H" || flag == "-I") {
      if (i + 1 >= argc) {
        return stellwerk::fail(
            UsageError{fmt::format("Error: {} argument given but not enough other arguments.", flag)});
      }
      if (std::optional<UsageError> problem = apply_valued_flag(flag, argv[++i], options)) {
        return stellwerk::fail(std::move(*problem));
      }
    } else {
      return stellwerk::fail(UsageError{});
    }
  }
  options.arguments.assign(argv + i, argv + argc);
  return options;
}

std::optional<UsageError> check_combination(const PasswdOptions& options) {
  const size_t count = options.arguments.size();
  if (options.create && options.remove) return UsageError{"Error: -c and -D cannot be used together."};
  if (options.create && options.upgrade) return UsageError{"Error: -c and -U cannot be used together."};
  if (options.batch && options.remove) return UsageError{"Error: -b and -D cannot be used together."};
  if (options.remove && options.upgrade) return UsageError{"Error: -D and -U cannot be used together."};
  if (options.upgrade) {
    if (count != 1) return UsageError{"Error: -U argument given but password file missing."};
    return std::nullopt;
  }
  if (options.remove && count != 2) {
    return UsageError{"Error: -D argument given but password file or username missing."};
  }
  const size_t wanted = options.batch ? 3 : 2;
  if (options.create && count != wanted) {
    return UsageError{"Error: -c argument given but password file or username missing."};
  }
  if (count != wanted) return UsageError{};
  return std::nullopt;
}

// A username this file format and MQTT can carry; the message otherwise.
std::optional<std::string> username_problem(std::string_view username) {
  if (username.empty()) return "Error: Username must not be empty.";
  if (username.find(':') != std::string_view::npos)
    return "Error: Username must not contain the ':' character.";
  for (const char c : username) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "Error: Username must not contain control characters.";
    }
  }
  // The file's reader trims each line, so such a name could never log in.
  if (auth::trim(username) != username) return "Error: Username must not start or end with a space.";
  if (!stellwerk::mqtt::is_valid_utf8(username)) return "Error: Username is not valid UTF-8.";
  return std::nullopt;
}

// Turns terminal echo off for its lifetime, when stdin is a terminal. Typed
// ahead input is kept (TCSANOW, not TCSAFLUSH): a fast typist or a script
// may answer before the prompt is written.
class EchoOff {
 public:
  EchoOff() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

// Needs echo off already, so that no answer is ever shown.
std::string prompt(const char* text) {
  std::fputs(text, stdout);
  std::fflush(stdout);
  std::string line;
  std::getline(std::cin, line);
  if (line.ends_with('\r')) line.pop_back();
  // The Enter the user typed was not echoed.
  std::fputs("\n", stdout);
  return line;
}

// Asks twice, as mosquitto_passwd does; the exit code when it fails.
stellwerk::Result<std::string, int> prompt_password() {
  // One scope for both answers: typed-ahead input is never echoed either.
  EchoOff echo_off;
  std::string first = prompt("Password: ");
  if (first.empty()) {
    std::fputs("Error: Empty password.\n", stderr);
    return stellwerk::fail(kExitError);
  }
  if (prompt("Reenter password: ") != first) {
    std::fputs("Error: Passwords do not match.\n", stderr);
    return stellwerk::fail(kExitPasswordMismatch);
  }
  return first;
}

void report(std::string_view message) { fmt::print(stderr, "{}\n", message); }

// Writes all of `text` to `fd`; false with errno set on failure.
bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    text.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

// Makes the rename durable: a crash must leave the old file or the new one.
void sync_directory_of(const std::string& path) {
  const std::string directory = std::filesystem::path(path).parent_path().string();
  const int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Replaces the file (the target of a symlink, not the link) with `text`,
// mode 0600, keeping the old file's owner when allowed to.
bool write_password_file(const std::string& path, std::string_view text) {
  std::error_code ignored;
  const std::filesystem::path resolved = std::filesystem::canonical(path, ignored);
  const std::string target = resolved.empty() ? path : resolved.string();
  struct stat old {};
  const bool existed = ::stat(target.c_str(), &old) == 0;
  std::string temporary = target + ".XXXXXX";
  const int fd = ::mkstemp(temporary.data());
  if (fd < 0) {
    report(fmt::format("Error: Unable to open file {} for writing. {}.", path, std::strerror(errno)));
    return false;
  }
  ::fchmod(fd, S_IRUSR | S_IWUSR);
  // Only root may give the file back to its owner; anyone else keeps it.
  if (existed && ::fchown(fd, old.st_uid, old.st_gid) != 0) errno = 0;
  const bool written = write_all(fd, text) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), target.c_str()) != 0) {
    report(fmt::format("Error: Unable to write file {}. {}.", path,
                       std::strerror(written ? errno : saved_errno)));
    ::unlink(temporary.c_str());
    return false;
  }
  sync_directory_of(target);
  return true;
}

std::optional<auth::PasswordFileEditor> read_password_file(const std::string& path) {
  stellwerk::Result<std::string, auth::Error> text = auth::read_text_file(path);
  if (!text) {
    report(fmt::format("Error: Unable to open password file {}", text.error().describe()));
    return std::nullopt;
  }
  stellwerk::Result<auth::PasswordFileEditor, auth::Error> editor =
      auth::PasswordFileEditor::parse(*text, path);
  if (!editor) {
    report(fmt::format("Error: Corrupt password file at {}", editor.error().describe()));
    return std::nullopt;
  }
  return std::move(*editor);
}

// The password from the command line (-b) or the prompt; an exit code if none.
stellwerk::Result<std::string, int> obtain_password(const PasswdOptions& options) {
  if (options.batch) return options.arguments[2];
  return prompt_password();
}

int set_password(const PasswdOptions& options) {
  const std::string& path = options.arguments[0];
  const std::string& username = options.arguments[1];
  if (std::optional<std::string> problem = username_problem(username)) {
    report(*problem);
    return kExitError;
  }
  std::optional<auth::PasswordFileEditor> editor =
      options.create ? std::optional(auth::PasswordFileEditor()) : read_password_file(path);
  if (!editor) return kExitError;
  stellwerk::Result<std::string, int> password = obtain_password(options);
  if (!password) return password.error();
  stellwerk::Result<auth::PasswordHash, std::string> hash = auth::hash_password(*password, options.hash);
  if (!hash) {
    report(fmt::format("Error: Unable to hash the password: {}", hash.error()));
    return kExitError;
  }
  editor->set_user(username, auth::encode_password_hash(*hash));
  return write_password_file(path, editor->text()) ? kExitOk : kExitError;
}

int delete_user(const PasswdOptions& options) {
  const std::string& path = options.arguments[0];
  const std::string& username = options.arguments[1];
  std::optional<auth::PasswordFileEditor> editor = read_password_file(path);
  if (!editor) return kExitError;
  if (!editor->remove_user(username)) {
    report(fmt::format("Warning: User {} not found in password file.", username));
    return kExitError;
  }
  return write_password_file(path, editor->text()) ? kExitOk : kExitError;
}

int hash_plain_file(const PasswdOptions& options) {
  const std::string& path = options.arguments[0];
  std::optional<auth::PasswordFileEditor> editor = read_password_file(path);
  if (!editor) return kExitError;
  stellwerk::Result<size_t, std::string> hashed = editor->hash_plain_passwords(options.hash);
  if (!hashed) {
    report(fmt::format("Error: Unable to hash a password: {}", hashed.error()));
    return kExitError;
  }
  return write_password_file(path, editor->text()) ? kExitOk : kExitError;
}

}  // namespace

int run_passwd_command(int argc, char** argv) {
  stellwerk::Result<PasswdOptions, UsageError> options = parse_flags(argc, argv);
  std::optional<UsageError> problem = options ? check_combination(*options) : options.error();
  if (problem) {
    if (problem->message.empty()) {
      print_usage();
    } else {
      report(problem->message);
    }
    return kExitError;
  }
  if (options->upgrade) return hash_plain_file(*options);
  if (options->remove) return delete_user(*options);
  return set_password(*options);
}
