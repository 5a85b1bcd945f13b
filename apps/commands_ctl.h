// Entry point of `stellwerk ctl`, called by main() with argv starting at the
// subcommand's name. Talks to a running broker over its admin socket.
// Returns 0 on success, 1 when the broker refused or failed the request or
// could not be reached, 2 for a usage error.
#pragma once

int run_ctl_command(int argc, char** argv);
