/* The bare-socket floor of bench/compare.sh: the least work a STOMP client can do for each row of the table, so
 * that "stompsh at 0.95x of the floor" means what it says. C, blocking sockets, one buffer per direction, frames
 * formatted with the same headers, sizes, receipts, prefetch and acks as stompsh's row (no parsing beyond finding
 * the NUL that ends a frame and the one or two headers the work needs). compare.sh compiles it with `cc -O2`.
 *
 *   floor send URL DEST [-n N] [--size B] [--receipts none|each|window:W]
 *       N SEND frames like `bench send` writes them (destination, stompsh-bench-stream, -seq, -sent; no
 *       content-length; the bench's 100-byte body pattern), up to 1,000 frames / 256 KiB per write.
 *       none: the last message carries a receipt, the time runs until its RECEIPT (what the broker took);
 *       each: one at a time, each RECEIPT waited for; window:W: a receipt on every SEND, at most W outstanding.
 *   floor consume URL DEST [-n N] [--ack auto|client-individual] [--prefetch P]
 *       SUBSCRIBE (prefetch headers activemq.prefetchSize and prefetch-count when P > 0, as `bench consume
 *       --prefetch`), counts N MESSAGE frames from the SUBSCRIBE on; client-individual: one ACK per MESSAGE, the
 *       ACKs of one read in one write.
 *   floor rpc URL DEST [-n N] [-c C] [--prefetch P] [--processes 1|2]
 *       A caller and a responder connection in one process (one poll loop), JSON-RPC echo over DEST with a
 *       /temp-queue/ reply-to, C calls in flight; the responder subscribes client-individual with prefetch P
 *       (default 64, `rpc serve`'s default concurrency) and ACKs after each reply, as `rpc serve` does.
 *       --processes 2: the responder runs in a child process (blocking reads), like `rpc serve` beside `rpc bench`.
 *   floor hog
 *       Spins on one CPU until killed (the "other core busy" of compare.sh --load).
 *
 * Every mode takes --timeout S (default 30): a read that waits longer ends the program with status 1.
 * Every mode but hog prints one JSON line of figures (the keys py_bench.py prints). Bodies must not contain NUL
 * (no content-length is parsed): true of every message compare.sh sends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("floor: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- buffers ------------------------------------------------------------------------------------------------ */

typedef struct { char *p; size_t len, cap; } buf_t;

static void reserve(buf_t *b, size_t more) {
    if (b->len + more <= b->cap) return;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + more) cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) die("out of memory");
    b->cap = cap;
}

static void put(buf_t *b, const void *s, size_t n) { reserve(b, n); memcpy(b->p + b->len, s, n); b->len += n; }
static void puts_(buf_t *b, const char *s) { put(b, s, strlen(s)); }
static void putu(buf_t *b, uint64_t v) {
    char tmp[24];
    int i = sizeof tmp;
    do { tmp[--i] = '0' + v % 10; v /= 10; } while (v);
    put(b, tmp + i, sizeof tmp - i);
}

static void write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) { if (errno == EINTR) continue; die("write: %s", strerror(errno)); }
        p += w; n -= w;
    }
}

static void flush(int fd, buf_t *b) { write_all(fd, b->p, b->len); b->len = 0; }

/* ---- connection and frames ---------------------------------------------------------------------------------- */

typedef struct {
    int fd;
    buf_t in;       /* bytes read, not yet consumed from `off` on */
    size_t off;
    int rabbit;     /* the CONNECTED frame said server:RabbitMQ */
    int ep;         /* --wait epoll: this connection's epoll instance, 0 until the first wait */
} conn_t;

typedef struct { char host[256], port[16], vhost[256], login[256], pass[256]; } url_t;

static url_t parse_url(const char *s) {
    url_t u = { "127.0.0.1", "61613", "/", "guest", "guest" };
    const char *p = strstr(s, "://");
    p = p ? p + 3 : s;
    const char *at = strchr(p, '@'), *slash = strchr(p, '/');
    if (at && (!slash || at < slash)) {
        const char *colon = memchr(p, ':', at - p);
        if (colon) {
            snprintf(u.login, sizeof u.login, "%.*s", (int)(colon - p), p);
            snprintf(u.pass, sizeof u.pass, "%.*s", (int)(at - colon - 1), colon + 1);
        } else snprintf(u.login, sizeof u.login, "%.*s", (int)(at - p), p);
        p = at + 1;
    }
    const char *end = p + strcspn(p, "/?");
    const char *colon = memchr(p, ':', end - p);
    if (colon) {
        snprintf(u.host, sizeof u.host, "%.*s", (int)(colon - p), p);
        snprintf(u.port, sizeof u.port, "%.*s", (int)(end - colon - 1), colon + 1);
    } else snprintf(u.host, sizeof u.host, "%.*s", (int)(end - p), p);
    if (*end == '/' && end[1] && end[1] != '?') snprintf(u.vhost, sizeof u.vhost, "%.*s", (int)strcspn(end + 1, "?"), end + 1);
    return u;
}

/* How long a read may wait (--timeout): a stalled broker or a short queue ends the program instead of hanging. */
static double read_timeout = 30;

/* --wait epoll: wait in epoll_wait for the socket to become readable before each read, as an event loop (NIO)
 * does, instead of blocking in read(): isolates what that wake-up path costs on a round trip. */
static int wait_with_epoll = 0;

/* Blocks until c->fd is readable or read_timeout passes (then the read below reports the timeout). */
static void epoll_until_readable(conn_t *c) {
    if (c->ep <= 0) {
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = c->fd };
        if ((c->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) die("epoll_create1: %s", strerror(errno));
        if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
    }
    struct epoll_event got;
    while (epoll_wait(c->ep, &got, 1, (int)(read_timeout * 1000)) < 0 && errno == EINTR) {}
}

/* Reads more bytes into c->in; dies on EOF or after read_timeout seconds without data. */
static void fill(conn_t *c) {
    if (c->off && c->off == c->in.len) { c->in.len = c->off = 0; }
    else if (c->off > (1 << 20)) {
        memmove(c->in.p, c->in.p + c->off, c->in.len - c->off);
        c->in.len -= c->off; c->off = 0;
    }
    reserve(&c->in, 262144);
    for (;;) {
        if (wait_with_epoll) epoll_until_readable(c);
        ssize_t r = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
        if (r > 0) { c->in.len += r; return; }
        if (r == 0) die("connection closed by the broker");
        if (errno == EAGAIN || errno == EWOULDBLOCK) die("nothing from the broker for %g s", read_timeout);
        if (errno != EINTR) die("read: %s", strerror(errno));
    }
}

/* The next complete frame in c->in (heart-beat EOLs skipped), or NULL; *n is its length without the NUL. An
 * ERROR frame ends the program. */
static const char *next_frame(conn_t *c, size_t *n) {
    while (c->off < c->in.len && (c->in.p[c->off] == '\n' || c->in.p[c->off] == '\r')) c->off++;
    if (c->off >= c->in.len) return NULL;
    const char *f = c->in.p + c->off;
    const char *z = memchr(f, 0, c->in.len - c->off);
    if (!z) return NULL;
    *n = z - f;
    c->off += *n + 1;
    if (*n >= 5 && memcmp(f, "ERROR", 5) == 0) die("ERROR frame: %.*s", (int)(*n > 400 ? 400 : *n), f);
    return f;
}

/* The next frame, reading as needed. */
static const char *read_frame(conn_t *c, size_t *n) {
    const char *f;
    while (!(f = next_frame(c, n))) fill(c);
    return f;
}

/* The value of header `name` (with its ':'), searched in the frame's headers; NULL if absent. */
static const char *header(const char *f, size_t n, const char *name, size_t *vlen) {
    const char *end = memmem(f, n, "\n\n", 2);
    if (!end) end = f + n;
    size_t k = strlen(name);
    for (const char *p = memchr(f, '\n', end - f); p && p < end; p = memchr(p + 1, '\n', end - p - 1)) {
        if ((size_t)(end - p - 1) > k && memcmp(p + 1, name, k) == 0) {
            const char *v = p + 1 + k;
            const char *e = memchr(v, '\n', end - v);
            *vlen = (e ? e : end) - v;
            return v;
        }
    }
    return NULL;
}

static conn_t stomp_connect(const url_t *u) {
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
    int rc = getaddrinfo(u->host, u->port, &hints, &ai);
    if (rc) die("%s:%s: %s", u->host, u->port, gai_strerror(rc));
    conn_t c = { .fd = socket(ai->ai_family, SOCK_STREAM, 0) };
    if (c.fd < 0 || connect(c.fd, ai->ai_addr, ai->ai_addrlen) < 0) die("connect %s:%s: %s", u->host, u->port, strerror(errno));
    freeaddrinfo(ai);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = { (time_t)read_timeout, (suseconds_t)((read_timeout - (time_t)read_timeout) * 1e6) };
    setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    buf_t b = {0};
    puts_(&b, "CONNECT\naccept-version:1.2\nhost:"); puts_(&b, u->vhost);
    puts_(&b, "\nlogin:"); puts_(&b, u->login); puts_(&b, "\npasscode:"); puts_(&b, u->pass);
    puts_(&b, "\nheart-beat:0,0\n\n"); put(&b, "", 1);
    flush(c.fd, &b);
    free(b.p);
    size_t n;
    const char *f = read_frame(&c, &n);
    if (n < 9 || memcmp(f, "CONNECTED", 9) != 0) die("not connected: %.*s", (int)(n > 300 ? 300 : n), f);
    c.rabbit = memmem(f, n, "\nserver:RabbitMQ", 16) != NULL;
    return c;
}

static void disconnect(conn_t *c) {
    write_all(c->fd, "DISCONNECT\n\n", 13);
    close(c->fd);
}

/* ---- figures ------------------------------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ',"latency_ms":{...}' from `count` durations in seconds (sorted in place). */
static void print_latency(double *lat, size_t count) {
    if (!count) return;
    qsort(lat, count, sizeof *lat, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < count; i++) sum += lat[i];
#define P(q) (lat[(size_t)(count * (q) / 100.0) < count ? (size_t)(count * (q) / 100.0) : count - 1] * 1000.0)
    printf(",\"latency_ms\":{\"count\":%zu,\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p99.9\":%.3f,"
           "\"max\":%.3f,\"mean\":%.3f}", count, lat[0] * 1000.0, P(50), P(90), P(99), P(99.9),
           lat[count - 1] * 1000.0, sum / count * 1000.0);
#undef P
}

/* ---- send --------------------------------------------------------------------------------------------------- */

typedef struct {
    const char *dest;
    char stream[32];
    char body[65536];
    int size;
} sender_t;

/* Appends message `seq` (from 1) as `bench send` encodes it; receipt id `rid` when >= 0 ("bTOKEN-SEQ", TOKEN a
 * UInt32 in base 36, at most 7 characters). */
static void put_send(buf_t *b, const sender_t *s, uint64_t seq, int with_receipt) {
    puts_(b, "SEND\ndestination:"); puts_(b, s->dest);
    puts_(b, "\nstompsh-bench-stream:"); puts_(b, s->stream);
    puts_(b, "\nstompsh-bench-seq:"); putu(b, seq);
    puts_(b, "\nstompsh-bench-sent:"); putu(b, wall_ns());
    if (with_receipt) { puts_(b, "\nreceipt:b1z141z3-"); putu(b, seq); }
    puts_(b, "\n\n");
    put(b, s->body, s->size);
    put(b, "", 1);
}

static int is_receipt(const char *f, size_t n) { return n >= 7 && memcmp(f, "RECEIPT", 7) == 0; }

static void cmd_send(const url_t *u, const char *dest, long n, int size, const char *receipts) {
    static const char pattern[] = "stompsh bench payload 0123456789 abcdefghijklmnopqrstuvwxyz ";
    sender_t s = { .dest = dest, .size = size };
    if (size < 0 || size > (int)sizeof s.body) die("--size must be 0...%zu", sizeof s.body);
    for (int i = 0; i < size; i++) s.body[i] = pattern[i % (sizeof pattern - 1)];
    snprintf(s.stream, sizeof s.stream, "%x-1", (unsigned)(wall_ns() ^ getpid()));
    conn_t c = stomp_connect(u);
    buf_t out = {0};
    size_t fn;
    const char *f;
    double *lat = NULL;
    size_t nlat = 0;
    long window = 0;
    double t0 = mono(), written;
    if (strcmp(receipts, "none") == 0) {
        long per = 256 * 1024 / (size + 160);
        if (per > 1000) per = 1000;
        if (per < 1) per = 1;
        for (long seq = 1; seq <= n; seq++) {
            put_send(&out, &s, seq, seq == n);
            if (seq % per == 0 || seq == n) flush(c.fd, &out);
        }
        written = mono() - t0;
        do f = read_frame(&c, &fn); while (!is_receipt(f, fn));
    } else if (strcmp(receipts, "each") == 0) {
        lat = malloc(sizeof *lat * n);
        for (long seq = 1; seq <= n; seq++) {
            double t = mono();
            put_send(&out, &s, seq, 1);
            flush(c.fd, &out);
            do f = read_frame(&c, &fn); while (!is_receipt(f, fn));
            lat[nlat++] = mono() - t;
        }
        written = mono() - t0;
    } else if (strncmp(receipts, "window:", 7) == 0 && (window = atol(receipts + 7)) > 0) {
        /* receipts come back in order: the k-th RECEIPT confirms message k */
        lat = malloc(sizeof *lat * n);
        double *sent = malloc(sizeof *sent * (n + 1));
        long next = 1, done = 0;
        for (; next <= n && next <= window; next++) { sent[next] = mono(); put_send(&out, &s, next, 1); }
        flush(c.fd, &out);
        while (done < n) {
            fill(&c);
            double now = mono();
            while ((f = next_frame(&c, &fn))) {
                if (!is_receipt(f, fn)) continue;
                done++;
                lat[nlat++] = now - sent[done];
                if (next <= n) { sent[next] = mono(); put_send(&out, &s, next, 1); next++; }
            }
            if (out.len) flush(c.fd, &out);
        }
        written = mono() - t0;
        free(sent);
    } else die("--receipts none|each|window:W");
    double elapsed = mono() - t0;
    disconnect(&c);
    printf("{\"client\":\"floor\",\"bench\":\"send\",\"receipts\":\"%s\",\"messages\":%ld,\"size\":%d,"
           "\"written_s\":%.4f,\"elapsed_s\":%.4f,\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f", receipts, n, size,
           written, elapsed, n / elapsed, n * (double)size / elapsed / 1e6);
    print_latency(lat, nlat);
    puts("}");
}

/* ---- consume ------------------------------------------------------------------------------------------------ */

static void cmd_consume(const url_t *u, const char *dest, long n, const char *ack, long prefetch) {
    int individual = strcmp(ack, "client-individual") == 0;
    if (!individual && strcmp(ack, "auto") != 0) die("--ack auto|client-individual");
    conn_t c = stomp_connect(u);
    buf_t out = {0};
    puts_(&out, "SUBSCRIBE\ndestination:"); puts_(&out, dest);
    puts_(&out, "\nid:bench-1234567890\nack:"); puts_(&out, ack);
    if (prefetch > 0) {
        puts_(&out, "\nactivemq.prefetchSize:"); putu(&out, prefetch);
        puts_(&out, "\nprefetch-count:"); putu(&out, prefetch);
    }
    puts_(&out, "\n\n"); put(&out, "", 1);
    double t0 = mono();
    flush(c.fd, &out);
    long got = 0;
    size_t fn, vl;
    const char *f, *v;
    while (got < n) {
        fill(&c);
        while (got < n && (f = next_frame(&c, &fn))) {
            if (fn < 7 || memcmp(f, "MESSAGE", 7) != 0) continue;
            got++;
            if (individual) {
                if (!(v = header(f, fn, "ack:", &vl))) die("MESSAGE without an ack header");
                puts_(&out, "ACK\nid:"); put(&out, v, vl); puts_(&out, "\n\n"); put(&out, "", 1);
            }
        }
        if (out.len) flush(c.fd, &out);
    }
    double elapsed = mono() - t0;
    disconnect(&c);
    printf("{\"client\":\"floor\",\"bench\":\"consume\",\"ack\":\"%s\",\"prefetch\":%ld,\"messages\":%ld,"
           "\"elapsed_s\":%.4f,\"msgs_per_s\":%.1f}\n", ack, prefetch, got, elapsed, got / elapsed);
}

/* ---- rpc ---------------------------------------------------------------------------------------------------- */

static void put_request(buf_t *b, const char *svc, const char *reply, const char *tag, long id) {
    puts_(b, "SEND\ndestination:"); puts_(b, svc);
    puts_(b, "\nreply-to:"); puts_(b, reply);
    puts_(b, "\ncorrelation-id:"); puts_(b, tag); putu(b, id);
    puts_(b, "\ncontent-type:application/json\n\n{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1],\"id\":\"");
    puts_(b, tag); putu(b, id);
    puts_(b, "\"}"); put(b, "", 1);
}

/* The responder's answer to one request frame: the reply SEND and the ACK, appended to `ro`. */
static void put_answer(buf_t *ro, const char *f, size_t fn) {
    size_t vl, cl, al;
    const char *v, *cv, *av;
    if (!(v = header(f, fn, "reply-to:", &vl)) || !(cv = header(f, fn, "correlation-id:", &cl)) ||
        !(av = header(f, fn, "ack:", &al))) die("request without reply-to/correlation-id/ack");
    puts_(ro, "SEND\ndestination:"); put(ro, v, vl);
    puts_(ro, "\ncorrelation-id:"); put(ro, cv, cl);
    puts_(ro, "\ncontent-type:application/json\n\n{\"jsonrpc\":\"2.0\",\"result\":[1],\"id\":\"");
    put(ro, cv, cl); puts_(ro, "\"}"); put(ro, "", 1);
    puts_(ro, "ACK\nid:"); put(ro, av, al); puts_(ro, "\n\n"); put(ro, "", 1);
}

static void cmd_rpc(const url_t *u, const char *svc, long n, long conc, long prefetch, int processes) {
    conn_t caller = stomp_connect(u), responder = stomp_connect(u);
    char tag[32], reply[64];
    snprintf(tag, sizeof tag, "%08x-", (unsigned)(wall_ns() ^ getpid()));
    snprintf(reply, sizeof reply, "/temp-queue/floor-%.8s", tag);
    buf_t co = {0}, ro = {0};
    size_t fn, cl;
    const char *f, *cv;
    /* ActiveMQ wants the caller subscribed to its temp queue; RabbitMQ subscribes it by itself */
    if (!caller.rabbit) {
        puts_(&co, "SUBSCRIBE\nid:r\ndestination:"); puts_(&co, reply);
        puts_(&co, "\nack:auto\nactivemq.dispatchAsync:false\nreceipt:s\n\n"); put(&co, "", 1);
        flush(caller.fd, &co);
        do f = read_frame(&caller, &fn); while (!is_receipt(f, fn));
    }
    puts_(&ro, "SUBSCRIBE\nid:s\ndestination:"); puts_(&ro, svc); puts_(&ro, "\nack:client-individual\n");
    if (responder.rabbit) { puts_(&ro, "prefetch-count:"); putu(&ro, prefetch); }
    else { puts_(&ro, "activemq.prefetchSize:"); putu(&ro, prefetch); puts_(&ro, "\nactivemq.dispatchAsync:false"); }
    puts_(&ro, "\nreceipt:s\n\n"); put(&ro, "", 1);
    flush(responder.fd, &ro);
    do f = read_frame(&responder, &fn); while (!is_receipt(f, fn));

    /* --processes 2: the responder answers in a child process of its own (blocking reads), as `rpc serve` does in
     * a process apart from `rpc bench`: the caller and the responder are then woken separately */
    pid_t child = -1;
    if (processes == 2) {
        fflush(stdout);
        pid_t caller_pid = getpid();
        if ((child = fork()) < 0) die("fork: %s", strerror(errno));
        if (child == 0) {
            /* the caller gave up (a timeout, a signal): so does the responder */
            if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != caller_pid) _exit(1);
            /* every request is answered (leftovers of an earlier run too); it ends after the caller's n */
            for (long answered = 0;;) {
                while ((f = next_frame(&responder, &fn))) {
                    if (fn < 7 || memcmp(f, "MESSAGE", 7) != 0) continue;
                    put_answer(&ro, f, fn);
                    if ((cv = header(f, fn, "correlation-id:", &cl)) && cl > strlen(tag) && memcmp(cv, tag, strlen(tag)) == 0)
                        answered++;
                }
                if (ro.len) flush(responder.fd, &ro);
                if (answered >= n) break;
                fill(&responder);
            }
            disconnect(&responder);
            _exit(0);
        }
        close(responder.fd);
    }
    double *lat = malloc(sizeof *lat * n), *start = malloc(sizeof *start * n);
    long issued = 0, done = 0;
    size_t taglen = strlen(tag);
    double t0 = mono();
    for (; issued < n && issued < conc; issued++) { start[issued] = mono(); put_request(&co, svc, reply, tag, issued); }
    flush(caller.fd, &co);
    struct pollfd pf[2] = { { .fd = responder.fd, .events = POLLIN }, { .fd = caller.fd, .events = POLLIN } };
    while (done < n) {
        /* one call in flight: block in read() on the side that moves next, as a sequential client would */
        if (child > 0) pf[0].revents = 0, pf[1].revents = POLLIN;
        else if (conc == 1) pf[0].revents = POLLIN, pf[1].revents = 0;
        else if (poll(pf, 2, (int)(read_timeout * 1000)) <= 0) die("no traffic for %g s (%ld of %ld calls done)", read_timeout, done, n);
        if (pf[0].revents) {
            int answered = 0;
            do {
                if (conc > 1 || !(f = next_frame(&responder, &fn))) { fill(&responder); f = NULL; }
                while (f || (f = next_frame(&responder, &fn))) {
                    if (fn >= 7 && memcmp(f, "MESSAGE", 7) == 0) { put_answer(&ro, f, fn); answered++; }
                    f = NULL;
                }
            } while (conc == 1 && !answered);
            if (ro.len) flush(responder.fd, &ro);
            if (conc == 1) pf[1].revents = POLLIN;   /* the reply is on its way: read it next */
        }
        if (pf[1].revents) {
            long before = done;
            do {
                fill(&caller);
                double now = mono();
                while ((f = next_frame(&caller, &fn))) {
                    if (fn < 7 || memcmp(f, "MESSAGE", 7) != 0) continue;
                    if (!(cv = header(f, fn, "correlation-id:", &cl)) || cl <= taglen || memcmp(cv, tag, taglen) != 0) continue;
                    long id = strtol(cv + taglen, NULL, 10);
                    if (id < 0 || id >= issued) die("reply to an unknown call %ld", id);
                    lat[done++] = now - start[id];
                    if (issued < n) { start[issued] = mono(); put_request(&co, svc, reply, tag, issued); issued++; }
                }
            } while ((conc == 1 || child > 0) && done == before);
            if (co.len) flush(caller.fd, &co);
        }
    }
    double elapsed = mono() - t0;
    disconnect(&caller);
    if (child > 0) {
        int st;
        if (waitpid(child, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) die("the responder process failed");
    } else {
        disconnect(&responder);
    }
    printf("{\"client\":\"floor\",\"bench\":\"rpc\",\"calls\":%ld,\"concurrency\":%ld,\"processes\":%d,"
           "\"elapsed_s\":%.4f,\"calls_per_s\":%.1f", n, conc, processes, elapsed, n / elapsed);
    print_latency(lat, done);
    puts("}");
}

/* ---- main --------------------------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "hog") == 0) {
        volatile uint64_t x = 0;
        for (;;) x++;
    }
    if (argc < 4) {
        fprintf(stderr, "usage: floor send|consume|rpc URL DEST [-n N] [--size B] [--receipts none|each|window:W]\n"
                        "       [--ack auto|client-individual] [--prefetch P] [-c C]\n"
                        "       [--wait read|epoll]; floor hog\n");
        return 2;
    }
    const char *mode = argv[1], *dest = argv[3], *receipts = "none", *ack = "auto";
    url_t u = parse_url(argv[2]);
    long n = 100000, prefetch = -1, conc = 1;
    int size = 100, processes = 1;
    for (int i = 4; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) die("%s needs a value", a);
        if (strcmp(a, "-n") == 0) n = atol(v);
        else if (strcmp(a, "--size") == 0) size = atoi(v);
        else if (strcmp(a, "--receipts") == 0) receipts = v;
        else if (strcmp(a, "--ack") == 0) ack = v;
        else if (strcmp(a, "--prefetch") == 0) prefetch = atol(v);
        else if (strcmp(a, "-c") == 0) conc = atol(v);
        else if (strcmp(a, "--processes") == 0) processes = atoi(v);
        else if (strcmp(a, "--timeout") == 0) read_timeout = atof(v);
        else if (strcmp(a, "--wait") == 0) {
            if (strcmp(v, "epoll") == 0) wait_with_epoll = 1;
            else if (strcmp(v, "read") != 0) die("--wait read|epoll");
        }
        else die("unknown option %s", a);
        i++;
    }
    if (n < 1 || conc < 1 || !(read_timeout > 0)) die("-n, -c and --timeout must be positive");
    if (processes != 1 && processes != 2) die("--processes 1|2");
    setvbuf(stdout, NULL, _IOFBF, 4096);
    if (strcmp(mode, "send") == 0) cmd_send(&u, dest, n, size, receipts);
    else if (strcmp(mode, "consume") == 0) cmd_consume(&u, dest, n, ack, prefetch < 0 ? 0 : prefetch);
    else if (strcmp(mode, "rpc") == 0) cmd_rpc(&u, dest, n, conc, prefetch < 0 ? 64 : prefetch, processes);
    else die("unknown mode %s", mode);
    return 0;
}
