#ifndef SLOTWORKER_CMICROHTTPD_SHIM_H
#define SLOTWORKER_CMICROHTTPD_SHIM_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/select.h>
#include <microhttpd.h>

/*
 * Fixed-argument wrappers around libmicrohttpd's variadic functions (Swift does not import C variadics).
 * Every option value is passed with exactly the C type MHD reads with va_arg.
 */

/* Called once per request with the raw request URI (path and query); its return value becomes the request's
 * initial `*con_cls`. */
typedef void *(*slotworker_mhd_uri_log_callback)(void *cls, const char *uri, struct MHD_Connection *connection);

/* The options every daemon gets (the arguments of slotworker_mhd_start_daemon). */
#define SLOTWORKER_MHD_OPTIONS \
    MHD_OPTION_EXTERNAL_LOGGER, logger, logger_cls, \
    MHD_OPTION_SOCK_ADDR, address, \
    MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls, \
    MHD_OPTION_URI_LOG_CALLBACK, uri_log, uri_log_cls, \
    MHD_OPTION_CONNECTION_LIMIT, connection_limit, \
    MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip_connection_limit, \
    MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout_seconds, \
    MHD_OPTION_CONNECTION_MEMORY_LIMIT, connection_memory_limit, \
    MHD_OPTION_LISTEN_BACKLOG_SIZE, listen_backlog

/* Starts a daemon bound to `address` (the port inside `address` wins; 0 picks an ephemeral port).
 * Returns NULL when MHD could not start (bind failure, bad options); MHD then reported why through `logger`.
 *
 * `thread_pool_size` above 1 starts that many worker threads (MHD_OPTION_THREAD_POOL_SIZE). For 1 (or 0) the option
 * is left out: the internal polling thread then serves every connection, which is what MHD 0.9.75 does anyway when
 * given 0 or 1, after logging "specified for thread pool size, is ignored" on every start. */
static inline struct MHD_Daemon *slotworker_mhd_start_daemon(
    unsigned int flags,
    const struct sockaddr *address,
    MHD_AccessHandlerCallback handler, void *handler_cls,
    MHD_RequestCompletedCallback completed, void *completed_cls,
    slotworker_mhd_uri_log_callback uri_log, void *uri_log_cls,
    MHD_LogCallback logger, void *logger_cls,
    unsigned int connection_limit,
    unsigned int per_ip_connection_limit,
    unsigned int connection_timeout_seconds,
    unsigned int thread_pool_size,
    size_t connection_memory_limit,
    unsigned int listen_backlog)
{
    if (thread_pool_size > 1) {
        return MHD_start_daemon(
            flags, 0, NULL, NULL, handler, handler_cls,
            SLOTWORKER_MHD_OPTIONS,
            MHD_OPTION_THREAD_POOL_SIZE, thread_pool_size,
            MHD_OPTION_END);
    }
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_cls, SLOTWORKER_MHD_OPTIONS, MHD_OPTION_END);
}

#undef SLOTWORKER_MHD_OPTIONS

/* The port the daemon listens on (useful after binding port 0), or 0 when unknown. */
static inline uint16_t slotworker_mhd_bind_port(struct MHD_Daemon *daemon)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

/* Open client connections of the daemon (summed over the thread pool's workers). */
static inline unsigned int slotworker_mhd_current_connections(struct MHD_Daemon *daemon)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info == NULL ? 0 : info->num_connections;
}

/* Formats one MHD log message (printf-style format plus its va_list) into `buffer`. */
static inline int slotworker_mhd_format_log(char *buffer, size_t size, const char *format, va_list arguments)
{
    return vsnprintf(buffer, size, format, arguments);
}

#endif
