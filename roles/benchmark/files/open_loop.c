/*
 * open_loop: a fixed-rate (open-loop) HTTP/1.1 load client that corrects for coordinated
 * omission, after wrk2's model; with --serve, the trivial server that measures its ceiling.
 *
 *   open_loop --url http://HOST:PORT/PATH --rate R --duration SECONDS
 *             [--connections N] [--timeout SECONDS]
 *   open_loop --serve PORT          (0 picks a free port; prints "PORT <n>" once listening)
 *
 * Why: wrk is closed-loop. When a server stalls, wrk's connections wait with it and send
 * nothing, so the stall costs a handful of samples and vanishes from the percentiles. Here
 * every request has a due time fixed in advance and its latency is measured from that time:
 * a one-second stall delays every request due during that second, and p99 shows it.
 *
 * Schedule (wrk2's): N keep-alive connections; request k of connection c is due at
 * t0 + (c + k * N) / R seconds, i.e. the connections take turns and together offer R req/s.
 * Requests due in [0, duration) are scheduled. A connection has at most one request in
 * flight; while it waits for an answer its next requests stay due and are sent, one after the
 * other, as soon as it is free. latency_us counts from the due time, service_latency_us from
 * the actual send (what wrk shows). Each answer has --timeout seconds from its send, after
 * which it counts as "timeout" and the connection is reopened.
 *
 * The end: after the window, connections still send the requests that fell due while they
 * were busy (the drain), for at most --timeout seconds; what was due and never sent by then is
 * "unsent". Without the drain, a server slower than the per-connection gap N / R would always
 * leave a few requests queued at the window's end and could never hold a rate. The run ends
 * when nothing is in flight: at most duration + 2 x timeout after the start, which the
 * connections' opening may delay by up to one timeout. achieved_rps = completed / the
 * time from the start to the last answer (at least the duration), so that the drain does not
 * flatter a saturated server.
 *
 * Accounting: scheduled = sent + unsent and sent = completed + read + write + timeout errors.
 * "status" errors (HTTP >= 400) are completed answers. A failed connect counts "connect" and
 * the connection tries again at its next due time (not in a loop), so a closed port yields
 * about one connect error per scheduled request. A server closing an idle keep-alive
 * connection is not an error (the client reconnects); closing one with a request in flight is
 * a "read" error, as in wrk (no retry).
 *
 * Output: ONE JSON line on stdout (benchreport/SCHEMA.md, "Rates file", a point without its
 * "reason"); one progress line on stderr when the schedule starts. Exit codes: 0 run done
 * (whatever the errors), 1 system failure (epoll, memory), 2 bad arguments.
 *
 * Single-threaded, epoll, timerfd with 1 ns slack so that sends leave on time; only libc and
 * libm. Build: gcc -std=c11 -O2 -Wall -Wextra -Werror -o open_loop open_loop.c -lm
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL
#define MAX_CONNECTIONS 10000
#define MAX_RATE 10000000.0
#define MAX_DURATION_S 86400.0
#define MAX_TIMEOUT_S 3600.0
#define DEFAULT_CONNECTIONS 64
#define DEFAULT_TIMEOUT_S 2.0
/* Two int64 latencies are kept per completed request: 50 M requests = 800 MB at most. */
#define MAX_SCHEDULED 50000000ULL
#define HEAD_MAX 8192
/* Answers and connects are checked against --timeout this often (the timeout's precision). */
#define SWEEP_NS (10 * 1000 * 1000LL)
#define EVENT_BATCH 256
#define TIMER_TAG UINT64_MAX
#define SERVE_BACKLOG 4096
#define SERVE_BATCH 64

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                               */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static _Noreturn void die_usage(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("open_loop: ", stderr);
    vfprintf(stderr, format, args);
    fputs("\n(open_loop --help shows the options)\n", stderr);
    va_end(args);
    exit(2);
}

static _Noreturn void die_system(const char *what)
{
    fprintf(stderr, "open_loop: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void *checked_calloc(size_t count, size_t size)
{
    void *memory = calloc(count, size);
    if (memory == NULL)
        die_system("calloc");
    return memory;
}

static const char USAGE[] =
    "usage: open_loop --url http://HOST:PORT/PATH --rate R --duration SECONDS\n"
    "                 [--connections N] [--timeout SECONDS]\n"
    "       open_loop --serve PORT\n"
    "\n"
    "Sends GET requests at a fixed rate of R req/s over N keep-alive connections (64) for\n"
    "SECONDS, measures each latency from the time the request was due and prints one JSON\n"
    "line. --timeout (2) bounds each answer from its send. --serve runs a trivial HTTP/1.1\n"
    "server on 127.0.0.1 (PORT 0: any free port, printed as 'PORT <n>') to measure the\n"
    "client's own ceiling.\n";

/* ------------------------------------------------------------------------------------------ */
/* Arguments                                                                                   */

struct options {
    const char *url;
    double rate;
    double duration_s;
    long connections;
    double timeout_s;
    long serve_port; /* -1: client mode */
};

static double parse_positive(const char *option, const char *text, double max)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(value) || value <= 0 ||
        value > max)
        die_usage("%s must be a number > 0 and <= %g, got '%s'", option, max, text);
    return value;
}

static long parse_integer(const char *option, const char *text, long min, long max)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
        die_usage("%s must be a whole number from %ld to %ld, got '%s'", option, min, max, text);
    return value;
}

static void parse_options(int argc, char **argv, struct options *options)
{
    *options = (struct options){.connections = DEFAULT_CONNECTIONS,
                                .timeout_s = DEFAULT_TIMEOUT_S,
                                .serve_port = -1};
    bool have_rate = false, have_duration = false;
    for (int i = 1; i < argc; i++) {
        char name[32];
        const char *value;
        const char *equals = strchr(argv[i], '=');
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(USAGE, stdout);
            exit(0);
        }
        if (strncmp(argv[i], "--", 2) != 0)
            die_usage("unexpected argument '%s'", argv[i]);
        if (equals != NULL) { /* --name=value */
            size_t length = (size_t)(equals - argv[i]);
            if (length >= sizeof name)
                die_usage("unknown option '%s'", argv[i]);
            memcpy(name, argv[i], length);
            name[length] = '\0';
            value = equals + 1;
        } else {
            if (strlen(argv[i]) >= sizeof name)
                die_usage("unknown option '%s'", argv[i]);
            strcpy(name, argv[i]);
            if (i + 1 >= argc)
                die_usage("%s needs a value", name);
            value = argv[++i];
        }
        if (strcmp(name, "--url") == 0) {
            options->url = value;
        } else if (strcmp(name, "--rate") == 0) {
            options->rate = parse_positive(name, value, MAX_RATE);
            have_rate = true;
        } else if (strcmp(name, "--duration") == 0) {
            options->duration_s = parse_positive(name, value, MAX_DURATION_S);
            have_duration = true;
        } else if (strcmp(name, "--connections") == 0) {
            options->connections = parse_integer(name, value, 1, MAX_CONNECTIONS);
        } else if (strcmp(name, "--timeout") == 0) {
            options->timeout_s = parse_positive(name, value, MAX_TIMEOUT_S);
        } else if (strcmp(name, "--serve") == 0) {
            options->serve_port = parse_integer(name, value, 0, 65535);
        } else {
            die_usage("unknown option '%s'", name);
        }
    }
    if (options->serve_port >= 0)
        return;
    if (options->url == NULL)
        die_usage("--url is required");
    if (!have_rate)
        die_usage("--rate is required (requests per second)");
    if (!have_duration)
        die_usage("--duration is required (seconds)");
}

/* ------------------------------------------------------------------------------------------ */
/* Target: the parsed URL, its resolved address and the one request every connection sends   */

#define REQUEST_FORMAT \
    "GET %s%.*s HTTP/1.1\r\nHost: %.*s\r\nUser-Agent: open_loop/1\r\nAccept: */*\r\n\r\n"

struct target {
    struct sockaddr_storage address;
    socklen_t address_length;
    int family;
    char *request;
    size_t request_length;
};

static void parse_url(const char *url, struct target *target)
{
    static const char scheme[] = "http://";
    if (strncmp(url, scheme, sizeof scheme - 1) != 0)
        die_usage("--url must start with http:// (https is not supported), got '%s'", url);
    const char *authority = url + sizeof scheme - 1;
    size_t authority_length = strcspn(authority, "/?#");
    const char *path = authority + authority_length;
    if (authority_length == 0 || authority_length >= 300)
        die_usage("--url has no usable host: '%s'", url);
    if (*path == '#')
        path = "";

    char host[300], port[8] = "80";
    const char *host_start = authority, *host_end, *port_start = NULL;
    if (authority[0] == '[') { /* [IPv6]:port */
        host_start = authority + 1;
        host_end = memchr(authority, ']', authority_length);
        if (host_end == NULL)
            die_usage("--url has an unclosed '[' in its host: '%s'", url);
        if (host_end + 1 < authority + authority_length) {
            if (host_end[1] != ':')
                die_usage("--url has junk after its IPv6 host: '%s'", url);
            port_start = host_end + 2;
        }
    } else {
        host_end = memchr(authority, ':', authority_length);
        if (host_end != NULL)
            port_start = host_end + 1;
        else
            host_end = authority + authority_length;
    }
    size_t host_length = (size_t)(host_end - host_start);
    if (host_length == 0)
        die_usage("--url has no host: '%s'", url);
    memcpy(host, host_start, host_length);
    host[host_length] = '\0';
    if (port_start != NULL) {
        size_t port_length = (size_t)(authority + authority_length - port_start);
        char port_text[8];
        if (port_length == 0 || port_length >= sizeof port_text)
            die_usage("--url has a bad port: '%s'", url);
        memcpy(port_text, port_start, port_length);
        port_text[port_length] = '\0';
        snprintf(port, sizeof port, "%ld", parse_integer("--url port", port_text, 1, 65535));
    }
    for (const char *c = path; *c != '\0' && *c != '#'; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            die_usage("--url path must not contain spaces or control characters: '%s'", url);
    size_t path_length = strcspn(path, "#");

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *found = NULL;
    int status = getaddrinfo(host, port, &hints, &found);
    if (status != 0)
        die_usage("--url host '%s' cannot be resolved: %s", host, gai_strerror(status));
    memcpy(&target->address, found->ai_addr, found->ai_addrlen);
    target->address_length = found->ai_addrlen;
    target->family = found->ai_family;
    freeaddrinfo(found);

    /* Host header: the authority exactly as given, as curl and wrk send it. */
    const char *slash = path[0] == '/' ? "" : "/"; /* http://host?q=1 asks for /?q=1 */
    int length = snprintf(NULL, 0, REQUEST_FORMAT, slash, (int)path_length, path,
                          (int)authority_length, authority);
    target->request = checked_calloc((size_t)length + 1, 1);
    snprintf(target->request, (size_t)length + 1, REQUEST_FORMAT, slash, (int)path_length, path,
             (int)authority_length, authority);
    target->request_length = (size_t)length;
}

/* ------------------------------------------------------------------------------------------ */
/* HTTP/1.1 response parser, fed in pieces as they arrive                                      */

enum parse_state {
    PARSE_HEAD,
    PARSE_BODY_LENGTH,
    PARSE_CHUNK_SIZE,
    PARSE_CHUNK_DATA,
    PARSE_TRAILER,
    PARSE_BODY_UNTIL_CLOSE,
};

enum feed_result { FEED_MORE, FEED_DONE, FEED_ERROR };

struct parser {
    enum parse_state state;
    int status;
    bool close_after; /* Connection: close, HTTP/1.0, or a body that ends with the close */
    uint64_t remaining;
    size_t line_length; /* bytes held in line: the head, or a chunk-size or trailer line */
    char line[HEAD_MAX + 1];
};

static void parser_reset(struct parser *parser)
{
    parser->state = PARSE_HEAD;
    parser->status = 0;
    parser->close_after = false;
    parser->remaining = 0;
    parser->line_length = 0;
}

/* Does a header value (not NUL-terminated) contain token, case-insensitively? */
static bool value_has(const char *value, size_t length, const char *token)
{
    size_t token_length = strlen(token);
    for (size_t i = 0; i + token_length <= length; i++)
        if (strncasecmp(value + i, token, token_length) == 0)
            return true;
    return false;
}

/* The head is complete in parser->line (ending with CRLF CRLF): read what decides the body. */
static enum feed_result parse_head(struct parser *parser)
{
    char *line = parser->line;
    char *end = line + parser->line_length;
    if (parser->line_length < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ')
        return FEED_ERROR;
    bool http10 = line[7] == '0';
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9')
            return FEED_ERROR;
        status = status * 10 + (line[i] - '0');
    }
    bool chunked = false, have_length = false, keep_alive = false, close = false;
    uint64_t content_length = 0;
    for (char *cursor = strstr(line, "\r\n") + 2; cursor < end;) {
        char *line_end = strstr(cursor, "\r\n");
        if (line_end == NULL || line_end == cursor)
            break; /* the empty line that ends the head */
        char *colon = memchr(cursor, ':', (size_t)(line_end - cursor));
        if (colon != NULL) {
            size_t name_length = (size_t)(colon - cursor);
            char *value = colon + 1;
            size_t value_length = (size_t)(line_end - value);
            if (name_length == 17 && strncasecmp(cursor, "transfer-encoding", 17) == 0) {
                chunked = value_has(value, value_length, "chunked");
            } else if (name_length == 14 && strncasecmp(cursor, "content-length", 14) == 0) {
                char *number_end = NULL;
                errno = 0;
                content_length = strtoull(value, &number_end, 10);
                if (errno != 0 || number_end == value)
                    return FEED_ERROR;
                have_length = true;
            } else if (name_length == 10 && strncasecmp(cursor, "connection", 10) == 0) {
                close = value_has(value, value_length, "close");
                keep_alive = value_has(value, value_length, "keep-alive");
            }
        }
        cursor = line_end + 2;
    }
    parser->status = status;
    parser->close_after = close || (http10 && !keep_alive);
    parser->line_length = 0;
    if (status >= 100 && status < 200) /* interim answer (100 Continue): the real one follows */
        return FEED_MORE;
    if (status == 204 || status == 304)
        return FEED_DONE;
    if (chunked) {
        parser->state = PARSE_CHUNK_SIZE;
    } else if (have_length) {
        if (content_length == 0)
            return FEED_DONE;
        parser->remaining = content_length;
        parser->state = PARSE_BODY_LENGTH;
    } else {
        parser->state = PARSE_BODY_UNTIL_CLOSE;
        parser->close_after = true;
    }
    return FEED_MORE;
}

/* Append data to parser->line up to the first occurrence of terminator (which may straddle
 * two reads); return the bytes of data used, or 0 with *found false when all were taken. */
static size_t take_line(struct parser *parser, const char *data, size_t length,
                        const char *terminator, bool *found, bool *overflow)
{
    size_t terminator_length = strlen(terminator);
    size_t old_length = parser->line_length;
    size_t room = HEAD_MAX - old_length;
    size_t copy = length < room ? length : room;
    memcpy(parser->line + old_length, data, copy);
    parser->line_length = old_length + copy;
    parser->line[parser->line_length] = '\0';
    size_t search_from = old_length >= terminator_length ? old_length - terminator_length + 1 : 0;
    char *hit = memmem(parser->line + search_from, parser->line_length - search_from, terminator,
                       terminator_length);
    *found = hit != NULL;
    *overflow = false;
    if (hit == NULL) {
        *overflow = parser->line_length >= HEAD_MAX;
        return copy;
    }
    size_t line_end = (size_t)(hit - parser->line) + terminator_length;
    parser->line_length = line_end;
    parser->line[line_end] = '\0';
    return line_end - old_length;
}

/* Feed received bytes; *used tells how many belonged to this answer when it is done. */
static enum feed_result parser_feed(struct parser *parser, const char *data, size_t length,
                                    size_t *used)
{
    size_t position = 0;
    while (position < length) {
        const char *chunk = data + position;
        size_t available = length - position;
        bool found, overflow;
        switch (parser->state) {
        case PARSE_HEAD: {
            position += take_line(parser, chunk, available, "\r\n\r\n", &found, &overflow);
            if (overflow)
                return FEED_ERROR;
            if (!found)
                break;
            enum feed_result result = parse_head(parser);
            if (result != FEED_MORE) {
                *used = position;
                return result;
            }
            break;
        }
        case PARSE_BODY_LENGTH:
        case PARSE_CHUNK_DATA: {
            size_t take = available < parser->remaining ? available : (size_t)parser->remaining;
            position += take;
            parser->remaining -= take;
            if (parser->remaining == 0 && parser->state == PARSE_BODY_LENGTH) {
                *used = position;
                return FEED_DONE;
            }
            if (parser->remaining == 0)
                parser->state = PARSE_CHUNK_SIZE;
            break;
        }
        case PARSE_CHUNK_SIZE: {
            position += take_line(parser, chunk, available, "\r\n", &found, &overflow);
            if (overflow)
                return FEED_ERROR;
            if (!found)
                break;
            char *end = NULL;
            errno = 0;
            uint64_t size = strtoull(parser->line, &end, 16);
            parser->line_length = 0;
            if (errno != 0 || end == parser->line)
                return FEED_ERROR;
            /* A chunk's data is followed by CRLF: skip both together. */
            parser->remaining = size + 2;
            parser->state = size == 0 ? PARSE_TRAILER : PARSE_CHUNK_DATA;
            if (size == 0)
                parser->remaining = 0;
            break;
        }
        case PARSE_TRAILER: {
            position += take_line(parser, chunk, available, "\r\n", &found, &overflow);
            if (overflow)
                return FEED_ERROR;
            if (!found)
                break;
            bool empty = parser->line_length == 2;
            parser->line_length = 0;
            if (empty) {
                *used = position;
                return FEED_DONE;
            }
            break;
        }
        case PARSE_BODY_UNTIL_CLOSE:
            position = length; /* the close ends it: see conn_eof */
            break;
        }
    }
    return FEED_MORE;
}

/* ------------------------------------------------------------------------------------------ */
/* Client state                                                                                */

enum conn_state { CONN_CLOSED, CONN_CONNECTING, CONN_IDLE, CONN_BUSY };

struct conn {
    int fd;
    enum conn_state state;
    uint32_t generation; /* bumped on every close: tells a stale event from a live one */
    bool want_out;
    long index;       /* c in the schedule */
    uint64_t next_k;  /* the next request of this connection to send */
    uint64_t k_limit; /* requests of this connection due in the window */
    int64_t due_ns, sent_ns, connect_started_ns;
    size_t written;
    int64_t heap_key;
    long heap_position; /* -1: not in the heap */
    struct parser parser;
};

struct samples {
    int64_t *values;
    size_t count, capacity;
};

struct errors {
    uint64_t connect, read, write, status, timeout;
};

struct client {
    const struct options *options;
    const struct target *target;
    int epoll_fd, timer_fd;
    int64_t armed_ns;
    struct conn *conns;
    long conn_count;
    /* Connections waiting for a time: IDLE ones for their next due time, CLOSED ones for
     * their next connect attempt; a min-heap so that each wake-up costs O(log N). */
    struct conn **heap;
    long heap_size;
    bool started;
    int64_t t0_ns, window_end_ns, send_end_ns, timeout_ns, last_sweep_ns, last_answer_ns;
    double period_ns; /* between two consecutive due times over all connections */
    uint64_t scheduled, sent, completed;
    long busy, connecting;
    struct errors errors;
    struct samples latency, service;
    int64_t max_lag_ns;
};

static void samples_add(struct samples *samples, int64_t value)
{
    if (samples->count == samples->capacity) {
        size_t capacity = samples->capacity ? samples->capacity * 2 : 4096;
        int64_t *values = realloc(samples->values, capacity * sizeof *values);
        if (values == NULL)
            die_system("realloc");
        samples->values = values;
        samples->capacity = capacity;
    }
    samples->values[samples->count++] = value;
}

static int64_t conn_due(const struct client *client, const struct conn *conn, uint64_t k)
{
    double index = (double)conn->index + (double)k * (double)client->conn_count;
    return client->t0_ns + (int64_t)(index * client->period_ns);
}

/* ---- the heap ----------------------------------------------------------------------------- */

static void heap_place(struct client *client, long position, struct conn *conn)
{
    client->heap[position] = conn;
    conn->heap_position = position;
}

static void heap_sift_up(struct client *client, long position)
{
    struct conn *conn = client->heap[position];
    while (position > 0) {
        long parent = (position - 1) / 2;
        if (client->heap[parent]->heap_key <= conn->heap_key)
            break;
        heap_place(client, position, client->heap[parent]);
        position = parent;
    }
    heap_place(client, position, conn);
}

static void heap_sift_down(struct client *client, long position)
{
    struct conn *conn = client->heap[position];
    for (;;) {
        long child = 2 * position + 1;
        if (child >= client->heap_size)
            break;
        if (child + 1 < client->heap_size &&
            client->heap[child + 1]->heap_key < client->heap[child]->heap_key)
            child++;
        if (conn->heap_key <= client->heap[child]->heap_key)
            break;
        heap_place(client, position, client->heap[child]);
        position = child;
    }
    heap_place(client, position, conn);
}

static void heap_remove(struct client *client, struct conn *conn)
{
    long position = conn->heap_position;
    if (position < 0)
        return;
    conn->heap_position = -1;
    struct conn *last = client->heap[--client->heap_size];
    if (last == conn)
        return;
    heap_place(client, position, last);
    heap_sift_down(client, position);
    heap_sift_up(client, last->heap_position);
}

/* Put conn in the heap with this key, or move it there. */
static void heap_set(struct client *client, struct conn *conn, int64_t key)
{
    heap_remove(client, conn);
    conn->heap_key = key;
    heap_place(client, client->heap_size++, conn);
    heap_sift_up(client, conn->heap_position);
}

/* ---- connections -------------------------------------------------------------------------- */

static void conn_connect(struct client *client, struct conn *conn, int64_t now);
static void conn_write(struct client *client, struct conn *conn);

static void epoll_update(struct client *client, struct conn *conn, int operation, bool want_out)
{
    struct epoll_event event = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0),
                                .data.u64 = (uint64_t)conn->index};
    if (epoll_ctl(client->epoll_fd, operation, conn->fd, &event) != 0)
        die_system("epoll_ctl");
    conn->want_out = want_out;
}

static void conn_close(struct client *client, struct conn *conn)
{
    if (conn->state == CONN_BUSY)
        client->busy--;
    else if (conn->state == CONN_CONNECTING)
        client->connecting--;
    if (conn->fd >= 0)
        close(conn->fd); /* also leaves the epoll set */
    conn->fd = -1;
    conn->state = CONN_CLOSED;
    conn->want_out = false;
    conn->generation++;
}

static bool has_more_to_send(const struct client *client, const struct conn *conn, int64_t now)
{
    return conn->next_k < conn->k_limit && (!client->started || now < client->send_end_ns);
}

/* After a failed connect: try again at this connection's next due time after now, not in a
 * loop; its overdue requests stay due meanwhile. */
static void schedule_retry(struct client *client, struct conn *conn, int64_t now)
{
    if (!client->started)
        return; /* the start of the schedule queues every connection */
    double position = (double)(now - client->t0_ns) / client->period_ns;
    double k_real = (position - (double)conn->index) / (double)client->conn_count;
    uint64_t k = k_real < 0 ? 0 : (uint64_t)floor(k_real) + 1;
    if (k < conn->next_k)
        k = conn->next_k;
    if (k < conn->k_limit)
        heap_set(client, conn, conn_due(client, conn, k));
    else
        heap_remove(client, conn);
}

static void conn_send(struct client *client, struct conn *conn)
{
    int64_t now = now_ns();
    conn->due_ns = conn_due(client, conn, conn->next_k);
    conn->next_k++;
    conn->sent_ns = now;
    conn->written = 0;
    conn->state = CONN_BUSY;
    parser_reset(&conn->parser);
    client->busy++;
    client->sent++;
    if (now - conn->due_ns > client->max_lag_ns)
        client->max_lag_ns = now - conn->due_ns;
    conn_write(client, conn);
}

/* An idle connection sends its next request if it is due, or waits for it in the heap. */
static void conn_ready(struct client *client, struct conn *conn, int64_t now)
{
    if (conn->state != CONN_IDLE || !client->started)
        return;
    if (!has_more_to_send(client, conn, now)) {
        heap_remove(client, conn);
        return;
    }
    int64_t due = conn_due(client, conn, conn->next_k);
    if (due <= now) {
        heap_remove(client, conn);
        conn_send(client, conn);
    } else {
        heap_set(client, conn, due);
    }
}

/* Reopen a closed connection right away while it has requests left to send. */
static void conn_reopen(struct client *client, struct conn *conn, int64_t now)
{
    if (has_more_to_send(client, conn, now))
        conn_connect(client, conn, now);
    else
        heap_remove(client, conn);
}

/* The request in flight is lost: count why, and start over on a new connection. */
static void conn_fail(struct client *client, struct conn *conn, uint64_t *counter)
{
    (*counter)++;
    conn_close(client, conn);
    conn_reopen(client, conn, now_ns());
}

static void connect_failed(struct client *client, struct conn *conn, int64_t now)
{
    client->errors.connect++;
    conn_close(client, conn);
    schedule_retry(client, conn, now);
}

static void conn_connect(struct client *client, struct conn *conn, int64_t now)
{
    int fd = socket(client->target->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { /* e.g. out of file descriptors: the same as a refused connect */
        connect_failed(client, conn, now);
        return;
    }
    int one = 1;
    /* The request leaves in one write; Nagle would hold it behind an unacknowledged one. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn->fd = fd;
    conn->connect_started_ns = now;
    if (connect(fd, (const struct sockaddr *)&client->target->address,
                client->target->address_length) == 0) {
        conn->state = CONN_IDLE;
        epoll_update(client, conn, EPOLL_CTL_ADD, false);
        conn_ready(client, conn, now);
    } else if (errno == EINPROGRESS) {
        conn->state = CONN_CONNECTING;
        client->connecting++;
        epoll_update(client, conn, EPOLL_CTL_ADD, true);
    } else {
        connect_failed(client, conn, now);
    }
}

static void conn_connected(struct client *client, struct conn *conn)
{
    int error = 0;
    socklen_t length = sizeof error;
    int64_t now = now_ns();
    if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
        connect_failed(client, conn, now);
        return;
    }
    client->connecting--;
    conn->state = CONN_IDLE;
    epoll_update(client, conn, EPOLL_CTL_MOD, false);
    conn_ready(client, conn, now);
}

static void conn_write(struct client *client, struct conn *conn)
{
    const struct target *target = client->target;
    while (conn->written < target->request_length) {
        ssize_t n = send(conn->fd, target->request + conn->written,
                         target->request_length - conn->written, MSG_NOSIGNAL);
        if (n > 0) {
            conn->written += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!conn->want_out)
                epoll_update(client, conn, EPOLL_CTL_MOD, true);
            return;
        } else {
            conn_fail(client, conn, &client->errors.write);
            return;
        }
    }
    if (conn->want_out)
        epoll_update(client, conn, EPOLL_CTL_MOD, false);
}

static void conn_complete(struct client *client, struct conn *conn, bool must_close)
{
    int64_t now = now_ns();
    client->last_answer_ns = now;
    samples_add(&client->latency, now - conn->due_ns);
    samples_add(&client->service, now - conn->sent_ns);
    client->completed++;
    if (conn->parser.status >= 400)
        client->errors.status++;
    client->busy--;
    conn->state = CONN_IDLE;
    if (must_close || conn->parser.close_after) {
        conn_close(client, conn);
        conn_reopen(client, conn, now);
    } else {
        conn_ready(client, conn, now);
    }
}

/* The server closed the connection (or reset it). */
static void conn_eof(struct client *client, struct conn *conn, bool reset)
{
    if (conn->state != CONN_BUSY) { /* an idle keep-alive connection closed: not an error */
        conn_close(client, conn);
        conn_reopen(client, conn, now_ns());
    } else if (!reset && conn->parser.state == PARSE_BODY_UNTIL_CLOSE) {
        conn_complete(client, conn, true);
    } else {
        conn_fail(client, conn, &client->errors.read);
    }
}

static void conn_readable(struct client *client, struct conn *conn)
{
    static char buffer[65536];
    for (;;) {
        ssize_t n = recv(conn->fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            if (conn->state != CONN_BUSY)
                continue; /* nothing was asked: discard */
            size_t used = 0;
            enum feed_result result = parser_feed(&conn->parser, buffer, (size_t)n, &used);
            if (result == FEED_ERROR) {
                conn_fail(client, conn, &client->errors.read);
                return;
            }
            if (result == FEED_DONE) {
                /* Bytes after the answer were never asked for: resynchronise on a new
                 * connection rather than misread them as the next answer. */
                conn_complete(client, conn, used < (size_t)n);
                return;
            }
        } else if (n == 0) {
            conn_eof(client, conn, false);
            return;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else {
            conn_eof(client, conn, true);
            return;
        }
    }
}

static void conn_event(struct client *client, struct conn *conn, uint32_t events)
{
    uint32_t generation = conn->generation;
    if (conn->state == CONN_CONNECTING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            conn_connected(client, conn);
        return;
    }
    if (conn->state == CONN_BUSY && conn->written < client->target->request_length &&
        (events & EPOLLOUT)) {
        conn_write(client, conn);
        if (conn->generation != generation)
            return; /* the write failed and the connection was replaced */
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        conn_readable(client, conn);
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* Time out answers and connects that took longer than --timeout. */
static void sweep(struct client *client, int64_t now)
{
    for (long i = 0; i < client->conn_count; i++) {
        struct conn *conn = &client->conns[i];
        if (conn->state == CONN_BUSY && now - conn->sent_ns >= client->timeout_ns)
            conn_fail(client, conn, &client->errors.timeout);
        else if (conn->state == CONN_CONNECTING &&
                 now - conn->connect_started_ns >= client->timeout_ns)
            connect_failed(client, conn, now);
    }
    client->last_sweep_ns = now;
}

static void arm_timer(struct client *client, int64_t deadline)
{
    if (deadline == client->armed_ns)
        return;
    struct itimerspec spec = {.it_value = {.tv_sec = deadline / NS_PER_S,
                                           .tv_nsec = deadline % NS_PER_S}};
    if (timerfd_settime(client->timer_fd, TFD_TIMER_ABSTIME, &spec, NULL) != 0)
        die_system("timerfd_settime");
    client->armed_ns = deadline;
}

static int64_t next_deadline(const struct client *client, int64_t now)
{
    int64_t deadline = INT64_MAX;
    if (now < client->send_end_ns) {
        deadline = now < client->window_end_ns ? client->window_end_ns : client->send_end_ns;
        if (client->heap_size > 0 && client->heap[0]->heap_key < deadline)
            deadline = client->heap[0]->heap_key;
    }
    if (client->busy + client->connecting > 0 && client->last_sweep_ns + SWEEP_NS < deadline)
        deadline = client->last_sweep_ns + SWEEP_NS;
    return deadline;
}

static void wait_and_dispatch(struct client *client, int timeout_ms)
{
    struct epoll_event events[EVENT_BATCH];
    int count = epoll_wait(client->epoll_fd, events, EVENT_BATCH, timeout_ms);
    if (count < 0 && errno != EINTR)
        die_system("epoll_wait");
    for (int i = 0; i < count; i++) {
        if (events[i].data.u64 == TIMER_TAG) {
            uint64_t expirations;
            if (read(client->timer_fd, &expirations, sizeof expirations) < 0) {
                /* already consumed: nothing to do */
            }
            client->armed_ns = 0; /* expired: the next arm must really set it */
            continue;
        }
        conn_event(client, &client->conns[events[i].data.u64], events[i].events);
    }
}

/* Pop the connections whose time has come: send what is due, retry connects. */
static void run_due(struct client *client, int64_t now)
{
    while (client->heap_size > 0 && client->heap[0]->heap_key <= now) {
        struct conn *conn = client->heap[0];
        heap_remove(client, conn);
        if (conn->state == CONN_CLOSED)
            conn_connect(client, conn, now);
        else if (conn->state == CONN_IDLE)
            conn_ready(client, conn, now);
    }
}

/* Open every connection that has requests to send before the clock starts, so that the
 * first due times do not pay for the handshakes; bounded by --timeout. */
static void warm_up(struct client *client)
{
    int64_t start = now_ns();
    for (long i = 0; i < client->conn_count; i++)
        if (client->conns[i].k_limit > 0)
            conn_connect(client, &client->conns[i], start);
    while (client->connecting > 0 && now_ns() - start < client->timeout_ns)
        wait_and_dispatch(client, 10);
}

static void start_schedule(struct client *client)
{
    client->t0_ns = now_ns();
    client->window_end_ns =
        client->t0_ns + (int64_t)llround(client->options->duration_s * (double)NS_PER_S);
    client->send_end_ns = client->window_end_ns + client->timeout_ns;
    client->started = true;
    sweep(client, client->t0_ns); /* connects still pending after the warm-up time out */
    for (long i = 0; i < client->conn_count; i++) {
        struct conn *conn = &client->conns[i];
        if (conn->k_limit > 0 && (conn->state == CONN_IDLE || conn->state == CONN_CLOSED))
            heap_set(client, conn, conn_due(client, conn, 0));
    }
    fprintf(stderr, "open_loop: sending %.3f req/s on %ld connections for %.3f s\n",
            client->options->rate, client->conn_count, client->options->duration_s);
}

/* After the window: nothing in flight, and nothing left that could still be sent. */
static bool finished(const struct client *client, int64_t now)
{
    if (now < client->window_end_ns || client->busy > 0)
        return false;
    return now >= client->send_end_ns || (client->heap_size == 0 && client->connecting == 0);
}

static void run_schedule(struct client *client)
{
    for (;;) {
        int64_t now = now_ns();
        if (now < client->send_end_ns)
            run_due(client, now);
        if (now - client->last_sweep_ns >= SWEEP_NS)
            sweep(client, now);
        if (finished(client, now))
            break;
        arm_timer(client, next_deadline(client, now));
        wait_and_dispatch(client, -1);
    }
}

/* Requests due in [0, duration): the indexes i with i / rate < duration. */
static uint64_t scheduled_requests(double rate, double duration_s)
{
    double product = rate * duration_s;
    double nearest = nearbyint(product);
    if (fabs(product - nearest) <= 1e-9 * (product > 1 ? product : 1))
        return (uint64_t)nearest; /* 200 req/s x 3 s is 600 requests, not 601 */
    return (uint64_t)ceil(product);
}

static void raise_file_limit(long connections)
{
    struct rlimit limit;
    rlim_t needed = (rlim_t)connections + 32;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= needed)
        return;
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed)
        die_usage("--connections %ld needs %lu open files; the hard limit (ulimit -Hn) is %lu",
                  connections, (unsigned long)needed, (unsigned long)limit.rlim_max);
    limit.rlim_cur = needed;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
        die_system("setrlimit");
}

static void client_init(struct client *client, const struct options *options,
                        const struct target *target)
{
    *client = (struct client){.options = options, .target = target};
    client->scheduled = scheduled_requests(options->rate, options->duration_s);
    if (client->scheduled > MAX_SCHEDULED)
        die_usage("--rate %g x --duration %g schedules %" PRIu64 " requests, more than %llu",
                  options->rate, options->duration_s, client->scheduled, MAX_SCHEDULED);
    raise_file_limit(options->connections);
    client->conn_count = options->connections;
    client->period_ns = (double)NS_PER_S / options->rate;
    client->timeout_ns = (int64_t)llround(options->timeout_s * (double)NS_PER_S);
    client->conns = checked_calloc((size_t)client->conn_count, sizeof *client->conns);
    client->heap = checked_calloc((size_t)client->conn_count, sizeof *client->heap);
    for (long i = 0; i < client->conn_count; i++) {
        struct conn *conn = &client->conns[i];
        conn->fd = -1;
        conn->index = i;
        conn->heap_position = -1;
        /* Connection c sends the global indexes c, c + N, c + 2N, ... below scheduled. */
        uint64_t c = (uint64_t)i, n = (uint64_t)client->conn_count;
        conn->k_limit = c < client->scheduled ? (client->scheduled - c + n - 1) / n : 0;
    }
    client->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    client->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (client->epoll_fd < 0 || client->timer_fd < 0)
        die_system("epoll_create1/timerfd_create");
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = TIMER_TAG};
    if (epoll_ctl(client->epoll_fd, EPOLL_CTL_ADD, client->timer_fd, &event) != 0)
        die_system("epoll_ctl");
    /* Timer slack (50 us by default) would make every send late by that much. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
}

/* ------------------------------------------------------------------------------------------ */
/* Report                                                                                      */

static int compare_int64(const void *left, const void *right)
{
    int64_t a = *(const int64_t *)left, b = *(const int64_t *)right;
    return (a > b) - (a < b);
}

/* Exact nearest-rank percentile of sorted values: the smallest value with at least p % of
 * the values at or below it. */
static int64_t percentile(const int64_t *sorted, size_t count, double p)
{
    double rank = ceil(p / 100.0 * (double)count - 1e-9);
    size_t index = rank < 1 ? 0 : (size_t)rank - 1;
    return sorted[index < count ? index : count - 1];
}

static void print_latency(const char *name, struct samples *samples)
{
    static const char *const keys[] = {"p50", "p75", "p90", "p99", "p99_9"};
    static const double levels[] = {50, 75, 90, 99, 99.9};
    size_t count = samples->count;
    printf("\"%s\":{", name);
    if (count == 0) {
        printf("\"min\":null,\"mean\":null");
        for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
            printf(",\"%s\":null", keys[i]);
        printf(",\"max\":null}");
        return;
    }
    qsort(samples->values, count, sizeof *samples->values, compare_int64);
    long double sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += samples->values[i];
    printf("\"min\":%.3f,\"mean\":%.3f", (double)samples->values[0] / 1e3,
           (double)(sum / count) / 1e3);
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        printf(",\"%s\":%.3f", keys[i],
               (double)percentile(samples->values, count, levels[i]) / 1e3);
    printf(",\"max\":%.3f}", (double)samples->values[count - 1] / 1e3);
}

static void print_report(struct client *client)
{
    const struct options *options = client->options;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu_s = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
                   (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
    const struct errors *errors = &client->errors;
    double answer_window_s = (double)(client->last_answer_ns - client->t0_ns) / 1e9;
    if (answer_window_s < options->duration_s)
        answer_window_s = options->duration_s;
    printf("{\"offered_rps\":%.3f,\"duration_s\":%.3f,\"connections\":%ld,\"timeout_s\":%.3f,",
           options->rate, options->duration_s, options->connections, options->timeout_s);
    printf("\"scheduled\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"completed\":%" PRIu64
           ",\"achieved_rps\":%.3f,",
           client->scheduled, client->sent, client->completed,
           (double)client->completed / answer_window_s);
    printf("\"errors\":{\"connect\":%" PRIu64 ",\"read\":%" PRIu64 ",\"write\":%" PRIu64
           ",\"status\":%" PRIu64 ",\"timeout\":%" PRIu64 ",\"unsent\":%" PRIu64 "},",
           errors->connect, errors->read, errors->write, errors->status, errors->timeout,
           client->scheduled - client->sent);
    print_latency("latency_us", &client->latency);
    putchar(',');
    print_latency("service_latency_us", &client->service);
    if (client->sent > 0)
        printf(",\"max_send_lag_us\":%.3f", (double)client->max_lag_ns / 1e3);
    else
        printf(",\"max_send_lag_us\":null");
    printf(",\"client_cpu_s\":%.3f}\n", cpu_s);
    fflush(stdout);
}

/* ------------------------------------------------------------------------------------------ */
/* --serve: a trivial keep-alive HTTP/1.1 server, to measure the client itself                */

static const char SERVE_RESPONSE[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";
#define SERVE_RESPONSE_LENGTH (sizeof SERVE_RESPONSE - 1)

struct serve_conn {
    int fd;
    unsigned matched; /* bytes of "\r\n\r\n" matched so far: a request head may straddle reads */
    uint64_t owed;    /* answers not yet fully written */
    size_t offset;    /* bytes of the first owed answer already written */
    bool want_out;
};

/* Every request head (GET, no body) ends with CRLF CRLF: count them, pipelined or not. */
static void serve_count_requests(struct serve_conn *conn, const char *data, size_t length)
{
    static const char end[] = "\r\n\r\n";
    for (size_t i = 0; i < length; i++) {
        if (data[i] == end[conn->matched])
            conn->matched++;
        else
            conn->matched = data[i] == '\r' ? 1 : 0;
        if (conn->matched == 4) {
            conn->owed++;
            conn->matched = 0;
        }
    }
}

/* Write owed answers; false when the connection is dead. */
static bool serve_flush(int epoll_fd, struct serve_conn *conn, const char *batch)
{
    while (conn->owed > 0) {
        uint64_t whole = conn->owed < SERVE_BATCH ? conn->owed : SERVE_BATCH;
        size_t length = (size_t)whole * SERVE_RESPONSE_LENGTH - conn->offset;
        ssize_t n = send(conn->fd, batch + conn->offset, length, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            return false;
        size_t done = conn->offset + (size_t)n;
        conn->owed -= done / SERVE_RESPONSE_LENGTH;
        conn->offset = done % SERVE_RESPONSE_LENGTH;
    }
    bool want_out = conn->owed > 0;
    if (want_out != conn->want_out) {
        struct epoll_event event = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0),
                                    .data.ptr = conn};
        if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, conn->fd, &event) != 0)
            return false;
        conn->want_out = want_out;
    }
    return true;
}

/* Read what arrived; false when the connection is closed or broken. */
static bool serve_read(struct serve_conn *conn)
{
    static char buffer[65536];
    for (;;) {
        ssize_t n = recv(conn->fd, buffer, sizeof buffer, 0);
        if (n > 0)
            serve_count_requests(conn, buffer, (size_t)n);
        else if (n < 0 && errno == EINTR)
            continue;
        else
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

static void serve_accept(int epoll_fd, int listener)
{
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN: all accepted; anything else: the client will see it */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct serve_conn *conn = checked_calloc(1, sizeof *conn);
        conn->fd = fd;
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = conn};
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
            close(fd);
            free(conn);
        }
    }
}

static int run_server(long port)
{
    static char batch[SERVE_BATCH * SERVE_RESPONSE_LENGTH];
    for (size_t i = 0; i < SERVE_BATCH; i++)
        memcpy(batch + i * SERVE_RESPONSE_LENGTH, SERVE_RESPONSE, SERVE_RESPONSE_LENGTH);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        die_system("socket");
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 ||
        listen(listener, SERVE_BACKLOG) != 0 ||
        getsockname(listener, (struct sockaddr *)&address, &length) != 0)
        die_system("bind/listen on 127.0.0.1");
    int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event listen_event = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &listen_event) != 0)
        die_system("epoll");
    /* The caller waits on this line, not on a sleep. */
    printf("PORT %d\n", ntohs(address.sin_port));
    fflush(stdout);
    struct epoll_event events[EVENT_BATCH];
    for (;;) {
        int count = epoll_wait(epoll_fd, events, EVENT_BATCH, -1);
        if (count < 0 && errno != EINTR)
            die_system("epoll_wait");
        for (int i = 0; i < count; i++) {
            struct serve_conn *conn = events[i].data.ptr;
            if (conn == NULL) {
                serve_accept(epoll_fd, listener);
                continue;
            }
            bool alive = true;
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                alive = serve_read(conn);
            if (alive)
                alive = serve_flush(epoll_fd, conn, batch);
            if (!alive) {
                close(conn->fd);
                free(conn);
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    struct options options;
    parse_options(argc, argv, &options);
    if (options.serve_port >= 0)
        return run_server(options.serve_port);
    struct target target;
    parse_url(options.url, &target);
    struct client client;
    client_init(&client, &options, &target);
    warm_up(&client);
    start_schedule(&client);
    run_schedule(&client);
    print_report(&client);
    return 0;
}
