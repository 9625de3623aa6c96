/* `crosslink-audit show`: the audit log's entries, one readable line each or
 * as JSON Lines. The one-line summary of an entry is shared with the report. */
#ifndef AUDIT_SHOW_H
#define AUDIT_SHOW_H

#include <stddef.h>

#include "entries.h"

/* A short summary in plain words of e's details into out (always
 * NUL-terminated, cut short to fit): the fields the event is known to carry,
 * or for an event this version does not know, each member of its details
 * (numbers and strings as they are, lists and objects by their size), so no
 * entry is ever left out. Control bytes are replaced by '?'. */
void audit_entry_summary(const struct audit_entry *e, char *out, size_t outlen);

/* The keys a keyring.reload entry added, revoked and removed, each as
 * "KEYID NAME (ROLE of AGENCY)", into out ("" when it lists none). */
void audit_key_changes(const struct audit_entry *e, char *out, size_t outlen);

/* "key (role)", or "linker" when actor and role are both "linker", into out. */
void audit_entry_who(const struct audit_entry *e, char *out, size_t outlen);

#endif
