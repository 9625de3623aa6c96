/* The subcommands of crosslink-audit, one module each: verify.c, fetch.c,
 * show.c, report.c. Each takes its own argv (argv[0] is the subcommand's name),
 * parses its options with getopt_long and returns the exit status. */
#ifndef AUDIT_COMMANDS_H
#define AUDIT_COMMANDS_H

int audit_cmd_verify(int argc, char **argv);
int audit_cmd_fetch(int argc, char **argv);
int audit_cmd_show(int argc, char **argv);
int audit_cmd_report(int argc, char **argv);

#endif
