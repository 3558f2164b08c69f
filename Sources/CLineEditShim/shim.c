#define _GNU_SOURCE 1
#include "CLineEditShim.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

int stompsh_el_set_getc(EditLine *el, stompsh_el_getc_fn fn) { return el_set(el, EL_GETCFN, fn); }
int stompsh_el_set_wprompt(EditLine *el, stompsh_el_wprompt_fn fn, wchar_t literal) {
    return el_wset(el, EL_PROMPT_ESC, fn, literal);
}
int stompsh_el_set_clientdata(EditLine *el, void *data) { return el_set(el, EL_CLIENTDATA, data); }
void *stompsh_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) return NULL;
    return data;
}
int stompsh_el_set_editor(EditLine *el, const char *mode) { return el_set(el, EL_EDITOR, mode); }
int stompsh_el_set_signal(EditLine *el, int on) { return el_set(el, EL_SIGNAL, on); }
int stompsh_el_addfn(EditLine *el, const char *name, const char *help, stompsh_el_cmd_fn fn) {
    return el_set(el, EL_ADDFN, name, help, fn);
}
int stompsh_el_bind(EditLine *el, const char *key, const char *command) {
    return el_set(el, EL_BIND, key, command, (const char *)NULL);
}
int stompsh_el_set_whistory(EditLine *el, HistoryW *h) { return el_wset(el, EL_HIST, history_w, h); }
int stompsh_el_refresh(EditLine *el) { return el_set(el, EL_REFRESH); }
int stompsh_el_columns(EditLine *el) {
    int co = 0;
    if (el_get(el, EL_GETTC, "co", &co, (void *)NULL) != 0) return 0;
    return co;
}

HistoryW *stompsh_history_new(int size) {
    HistoryW *h = history_winit();
    HistEventW ev;
    if (h != NULL) history_w(h, &ev, H_SETSIZE, size);
    return h;
}
void stompsh_history_free(HistoryW *h) { if (h != NULL) history_wend(h); }
int stompsh_history_setsize(HistoryW *h, int size) { HistEventW ev; return history_w(h, &ev, H_SETSIZE, size); }
int stompsh_history_enter(HistoryW *h, const wchar_t *line) { HistEventW ev; return history_w(h, &ev, H_ENTER, line); }
int stompsh_history_clear(HistoryW *h) { HistEventW ev; return history_w(h, &ev, H_CLEAR); }

static volatile sig_atomic_t sigint_flag = 0;
static volatile sig_atomic_t sigint_wake_fd = -1;
static volatile sig_atomic_t sigwinch_flag = 0;
static volatile sig_atomic_t sigint_installed = 0;
static struct sigaction sigint_previous;

static void on_sigint(int signo) {
    (void)signo;
    int saved = errno;
    sigint_flag = 1;
    int fd = sigint_wake_fd;
    if (fd >= 0) { char b = 'i'; ssize_t r = write(fd, &b, 1); (void)r; }
    errno = saved;
}

static void on_sigwinch(int signo) {
    (void)signo;
    sigwinch_flag = 1;
}

int stompsh_sigint_install(int wake_fd) {
    sigint_wake_fd = wake_fd;
    if (sigint_installed) return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;   // no SA_RESTART: blocking read()/poll() return EINTR
    if (sigaction(SIGINT, &sa, &sigint_previous) != 0) return -1;
    sigint_installed = 1;
    return 0;
}
int stompsh_sigint_uninstall(void) {
    if (!sigint_installed) return 0;
    sigint_installed = 0;
    return sigaction(SIGINT, &sigint_previous, NULL);
}
int stompsh_sigint_requested(void) { return sigint_flag != 0; }
void stompsh_sigint_clear(void) { sigint_flag = 0; }
void stompsh_sigint_set(void) { on_sigint(SIGINT); }
int stompsh_sigint_installed(void) { return sigint_installed; }
void stompsh_sigint_set_wake_fd(int wake_fd) { sigint_wake_fd = wake_fd; }

int stompsh_sigwinch_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigwinch;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    return sigaction(SIGWINCH, &sa, NULL);
}
int stompsh_sigwinch_take(void) {
    if (!sigwinch_flag) return 0;
    sigwinch_flag = 0;
    return 1;
}

int stompsh_wcwidth(wchar_t c) { return wcwidth(c); }
