// Entry point of `stellwerk passwd`, called by main() with argv starting at
// the subcommand's name (argv[0] is "passwd"). Returns the process exit
// status, as mosquitto_passwd does: 0 on success, non-zero on error.
#pragma once

// `stellwerk passwd ...`: manage a password file, with mosquitto_passwd's flags.
int run_passwd_command(int argc, char** argv);
