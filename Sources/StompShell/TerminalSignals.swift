// Wake-up pipe and signal handling for the REPL thread.
//
// The REPL thread blocks in poll() over stdin and a WakeUp's read end. Any
// thread (a NIO event loop delivering a frame, the SIGINT handler) wakes it by
// writing one byte. Signal handlers live in C (CLineEditShim) so they only
// touch a sig_atomic_t flag and write(2): async-signal-safe.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@preconcurrency import CLineEditShim

/// Wakes the REPL thread from any thread (event loop included): a self-pipe.
///
/// `signal()` may be called from any thread, any number of times; the pipe is
/// non-blocking, so a full pipe (already signalled) just drops the byte.
/// The reader polls `readFD` and calls `drain()` before looking at what
/// changed (drain first, then check the inbox: no wake-up is lost).
public final class WakeUp: @unchecked Sendable {
    /// Read end: poll it for POLLIN.
    public let readFD: Int32
    /// Write end (used by `signal()` and by the SIGINT handler).
    public let writeFD: Int32

    public init() {
        var fds: [Int32] = [-1, -1]
        let rc = fds.withUnsafeMutableBufferPointer { pipe($0.baseAddress!) }
        precondition(rc == 0, "WakeUp: pipe() failed: errno \(errno)")
        for fd in fds {
            let fl = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, fl | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        if stompsh_sigint_installed() != 0, Interrupt.wakeFD == writeFD {
            stompsh_sigint_set_wake_fd(-1)
        }
        close(readFD)
        close(writeFD)
    }

    /// Wake the waiting thread. Thread-safe; never blocks.
    public func signal() {
        var byte: UInt8 = 1
        _ = withUnsafePointer(to: &byte) { write(writeFD, $0, 1) }
    }

    /// Discard every pending wake-up byte. Returns true if there was any.
    @discardableResult
    public func drain() -> Bool {
        var any = false
        var buf = [UInt8](repeating: 0, count: 256)
        while true {
            let n = buf.withUnsafeMutableBytes { read(readFD, $0.baseAddress, 256) }
            if n > 0 { any = true; continue }
            if n < 0 && errno == EINTR { continue }
            return any
        }
    }

    /// Block until signalled or until `timeout` seconds passed (nil: forever).
    /// Returns true if signalled (the pipe is NOT drained). Returns early (false)
    /// when interrupted by a signal, so callers should re-check `Interrupt.requested`.
    @discardableResult
    public func wait(timeout: Double?) -> Bool {
        var pfd = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        let ms: Int32
        if let timeout { ms = timeout <= 0 ? 0 : Int32(min(timeout * 1000, Double(Int32.max)).rounded(.up)) } else { ms = -1 }
        let rc = poll(&pfd, 1, ms)
        return rc > 0 && (pfd.revents & Int16(POLLIN)) != 0
    }
}

/// SIGINT handling: sets a flag and signals the WakeUp; never kills the
/// process while installed. The REPL's `LineEditor.readLine` turns a Ctrl-C
/// while editing into `.interrupted`; a command in progress (a wait, a bench)
/// polls `requested` / the WakeUp and returns to the prompt.
public enum Interrupt {
    private static var installedWake: WakeUp?

    static var wakeFD: Int32 { installedWake?.writeFD ?? -1 }

    /// Install the SIGINT handler (idempotent; a later call switches the pipe).
    public static func install(wake: WakeUp) {
        installedWake = wake
        _ = stompsh_sigint_install(wake.writeFD)
    }

    /// Restore the SIGINT disposition that was in place before `install`.
    public static func uninstall() {
        _ = stompsh_sigint_uninstall()
        stompsh_sigint_set_wake_fd(-1)
        installedWake = nil
    }

    public static var isInstalled: Bool { stompsh_sigint_installed() != 0 }

    /// True once SIGINT arrived, until `clear()`.
    public static var requested: Bool { stompsh_sigint_requested() != 0 }

    public static func clear() { stompsh_sigint_clear() }

    /// Behave as if Ctrl-C was pressed: set the flag and signal the WakeUp.
    public static func request() { stompsh_sigint_set() }
}

/// Terminal helpers for the line editor.
public enum TerminalSignals {
    /// Install a SIGWINCH handler that only records the change (the line editor
    /// re-reads the size before its next redraw). Idempotent.
    public static func installWindowChange() {
        if !windowChangeInstalled {
            _ = stompsh_sigwinch_install()
            windowChangeInstalled = true
        }
    }
    private static var windowChangeInstalled = false

    /// True if the window size changed since the last call.
    static func takeWindowChange() -> Bool { stompsh_sigwinch_take() != 0 }

    /// Columns of the terminal on `fd`, or nil if it is not a terminal.
    public static func columns(fd: Int32 = 1) -> Int? {
        var ws = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 else { return nil }
        return Int(ws.ws_col)
    }
}
