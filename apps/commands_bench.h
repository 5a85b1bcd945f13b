// Entry point of `stellwerk bench`, called by main() with argv starting at
// the subcommand's name. Returns 0 when every delivery checked out, 1 when
// the check failed, 2 for a usage or setup error.
#pragma once

int run_bench_command(int argc, char** argv);
