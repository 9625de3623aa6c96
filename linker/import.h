/* Operator commands that work on the store directly: importing an .xle file an
 * agency sent by other means, and the status report. */
#ifndef LINKER_IMPORT_H
#define LINKER_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Records per chunk an import stores (at most the configured limit). Fixed, so
 * importing the same file twice finds the first import (idempotent). */
#define LINKER_IMPORT_CHUNK 1000u

/* Imports the .xle file at path as a committed submission of the agency its
 * header names, with the same checks, storage, audit entries and receipt as a
 * network submission. The agency must have an active agent key in the keyring;
 * the submission is recorded under that key and the audit entries name the
 * operator. Prints the signed receipt to out. An interrupted import resumes
 * where it stopped; importing committed content again prints its receipt. */
int linker_import(const char *conf_path, const char *path, FILE *out, char *err, size_t errlen);

/* Prints what the store holds: per agency and dataset the current (committed)
 * submission, open submissions with their progress, and totals. Reads the
 * database only; safe to run while the service runs. */
int linker_status(const char *conf_path, FILE *out, char *err, size_t errlen);

/* Prints a receipt (packed Receipt) in its canonical text form followed by its
 * signature and signer. */
int linker_receipt_print(FILE *out, const uint8_t *receipt, size_t len, char *err, size_t errlen);

#endif
