/* Events of a ZeroMQ socket monitor (zmq_socket_monitor), as libzmq 4.3 sends
 * them: a frame of a 16-bit event and a 32-bit value, then the endpoint. The
 * agent watches its handshake with them, the linker its connections. */
#ifndef XL_MONITOR_H
#define XL_MONITOR_H

#include <stdint.h>

/* Takes the next event from mon (the PAIR socket connected to the monitor)
 * without waiting: 1 with *event and *value (a descriptor, an error code or a
 * status, by event), 0 when none is waiting. */
int xl_monitor_next(void *mon, uint16_t *event, uint32_t *value);

#endif
