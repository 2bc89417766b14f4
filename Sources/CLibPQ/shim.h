#ifndef SLOTWORKER_CLIBPQ_SHIM_H
#define SLOTWORKER_CLIBPQ_SHIM_H
// libpq-fe.h is found through pkg-config (libpq.pc adds -I/usr/include/postgresql).
#include <libpq-fe.h>
#include <poll.h>
#endif
