/* crosslink-audit: the information-governance lead's tool. It checks the
 * linker's audit log with nothing but the linker's public signing key (every
 * entry, the hash chain, the Merkle tree, every signed checkpoint and each
 * agency receipt's inclusion), keeps its own copy and every checkpoint it has
 * seen, and turns the log into listings and a report for an IG board. It
 * shares no code with the linker's writer beyond common/'s formats. Exit
 * status: 0 done and verified, 1 failed (a log that does not verify names the
 * entry and what is wrong), 2 usage, 75 the linker stayed unreachable. */
#include "commands.h"
#include "xl/cli.h"

#define PROG "crosslink-audit"

static const struct xl_cli_cmd s_cmds[] = {
    {"verify", audit_cmd_verify,
     "verify LOG --linker-pub KEY [--checkpoint FILE ...] [--receipt FILE ...] "
     "[--allow-uncovered]",
     "Recompute the log's hash chain and Merkle tree from its first entry and check every\n"
     "entry, every signed checkpoint in LOG.checkpoints and in each FILE given (checkpoints\n"
     "one after another, as fetch keeps them), that each is consistent with the log, and that\n"
     "each agency receipt's commit entry is in the log and in its signed checkpoint. KEY is\n"
     "the linker's public signing key. Says exactly what failed: the entry number and field,\n"
     "or the checkpoint and size. Entries after the last signed checkpoint are a failure\n"
     "(written after the last signature, or forged) unless --allow-uncovered is given (a\n"
     "live log read between checkpoints; fetch always gets one that covers it)."},
    {"fetch", audit_cmd_fetch, "fetch -c audit.conf [--retry-for S]",
     "Pull new entries and the latest checkpoint from the linker with the auditor key, check\n"
     "them against everything fetched before, and append them to the local copy of the log.\n"
     "Every checkpoint seen is kept; a log that is not consistent with any of them is refused\n"
     "and nothing is written (a rewritten history, or two views of one log)."},
    {"show", audit_cmd_show,
     "show LOG [--since DATE] [--until DATE] [--agency A] [--event E] [--project P] [--json]",
     "List entries, one line each (or as JSON Lines with --json), optionally only those in a\n"
     "time range, naming an agency or a project, or of one event class (\"extract\" also\n"
     "matches \"extract.delivered\")."},
    {"report", audit_cmd_report, "report LOG --html FILE [--month YYYY-MM]",
     "Write a self-contained HTML report for an IG board, in plain words, with charts and\n"
     "tables: which agency sent what and when, link runs, extracts by project and purpose,\n"
     "refusals, key and keyring changes, purges and reloads, for the whole log or one month."},
};
#define S_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

int
main(int argc, char **argv)
{
    return xl_cli_main(PROG, s_cmds, S_NCMDS, argc, argv);
}
