/* Entity ids: a child's number that outlives link runs, so that a project's
 * pseudonym for the child (a keyed hash of it) stays the same while the
 * child's records stay linked.
 *
 * Each link run groups records into components; each record remembers the
 * entity id it had in the run before (found by its dataset and local_ref,
 * which a resubmission keeps). A component takes the old id most of its
 * records carried, and each old id goes to one component only:
 *   - unchanged: a component keeps its id;
 *   - grown (new records joined): it keeps its id;
 *   - split: the part with most of the old records keeps the id, the other
 *     parts get new ids;
 *   - merged: the merged component keeps the id of the larger old part (the
 *     smaller id on a tie); the other id is retired, never reused.
 * Ties between components for one old id go to the component with more of its
 * records, then the lower component number: the result depends only on the
 * input. New ids come from a counter kept in the store, so an id is never
 * given twice. docs/analyst.md says the same for analysts. */
#ifndef LINKER_ENTITIES_H
#define LINKER_ENTITIES_H

#include <stddef.h>
#include <stdint.h>

/* comp[i] is record i's component (any number below nrec), prev[i] the entity
 * id it had in the run before (0: none). Writes each record's entity id into
 * out[i]; new ids are taken from *next_id, which is advanced. 0, or
 * XL_ERR_NOMEM. */
int linker_entities_assign(const uint32_t *comp, const uint64_t *prev, size_t nrec,
                           uint64_t *next_id, uint64_t *out);

#endif
