// Fixed-signature wrappers around libedit's variadic calls (el_set, el_get,
// history), which Swift cannot call, plus async-signal-safe SIGINT/SIGWINCH
// handlers that only set a flag and write one byte to a wake-up pipe.
#pragma once
#include <stdio.h>
#include <wchar.h>
#include <histedit.h>

typedef int (*stompsh_el_getc_fn)(EditLine *, wchar_t *);
typedef wchar_t *(*stompsh_el_wprompt_fn)(EditLine *);
typedef unsigned char (*stompsh_el_cmd_fn)(EditLine *, int);

// el_set / el_wset
int stompsh_el_set_getc(EditLine *el, stompsh_el_getc_fn fn);
int stompsh_el_set_wprompt(EditLine *el, stompsh_el_wprompt_fn fn, wchar_t literal);
int stompsh_el_set_clientdata(EditLine *el, void *data);
void *stompsh_el_get_clientdata(EditLine *el);
int stompsh_el_set_editor(EditLine *el, const char *mode);     // "emacs" | "vi"
int stompsh_el_set_signal(EditLine *el, int on);
int stompsh_el_addfn(EditLine *el, const char *name, const char *help, stompsh_el_cmd_fn fn);
int stompsh_el_bind(EditLine *el, const char *key, const char *command);
int stompsh_el_set_whistory(EditLine *el, HistoryW *h);
int stompsh_el_refresh(EditLine *el);                          // EL_REFRESH: redraw prompt + line from the cursor's row
int stompsh_el_columns(EditLine *el);                          // EL_GETTC "co"; 0 if unknown

// history_w
HistoryW *stompsh_history_new(int size);
void stompsh_history_free(HistoryW *h);
int stompsh_history_setsize(HistoryW *h, int size);
int stompsh_history_enter(HistoryW *h, const wchar_t *line);
int stompsh_history_clear(HistoryW *h);

// wcwidth(3) (hidden from Swift by glibc feature macros).
int stompsh_wcwidth(wchar_t c);

// Signals. Handlers are installed with sigaction (no SA_RESTART) and write one
// byte to wake_fd (non-blocking pipe) so a poll() wakes up; -1 = no pipe.
int stompsh_sigint_install(int wake_fd);
int stompsh_sigint_uninstall(void);
int stompsh_sigint_requested(void);
void stompsh_sigint_clear(void);
void stompsh_sigint_set(void);                                   // as if SIGINT arrived (tests, programmatic)
int stompsh_sigint_installed(void);
void stompsh_sigint_set_wake_fd(int wake_fd);
int stompsh_sigwinch_install(void);
int stompsh_sigwinch_take(void);                               // 1 if SIGWINCH arrived since the last call
