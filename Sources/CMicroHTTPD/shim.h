#ifndef SLOTWORKER_CMICROHTTPD_SHIM_H
#define SLOTWORKER_CMICROHTTPD_SHIM_H
#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/select.h>
#include <microhttpd.h>
#endif
