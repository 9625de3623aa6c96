#include <string.h>

#include <zmq.h>

#include "xl/monitor.h"

int
xl_monitor_next(void *mon, uint16_t *event, uint32_t *value)
{
    int more = 1, first = 1;

    *event = 0;
    *value = 0;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return !first; /* a partial event: what its first frame said */
        }
        if (first && zmq_msg_size(&m) >= 6) {
            memcpy(event, zmq_msg_data(&m), 2);
            memcpy(value, (const uint8_t *)zmq_msg_data(&m) + 2, 4);
        }
        first = 0;
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    return 1;
}
