// Entry points of the client subcommands, called by main() with argv
// starting at the subcommand's name (argv[0] is "pub" or "sub"). They return
// the process exit status, compatible with mosquitto_pub / mosquitto_sub.
#pragma once

// `stellwerk pub ...`: publish one message, a file, stdin, or stdin line by line.
int run_pub_command(int argc, char** argv);
// `stellwerk sub ...`: subscribe and print the messages that arrive.
int run_sub_command(int argc, char** argv);
