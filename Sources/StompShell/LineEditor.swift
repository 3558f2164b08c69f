// The REPL's line input: libedit (native wide API) on a terminal, a plain
// reader otherwise (batch mode, pipes, tests).
//
// How live output works: libedit reads keys through our EL_GETCFN function,
// which poll()s stdin and a WakeUp pipe. When the pipe fires, `onWake` runs on
// this (the REPL) thread and may call `printAbove`, which moves the cursor up
// to the prompt's first row, clears to the end of the screen, writes the text
// and asks libedit to redraw the prompt and the partly typed line (EL_REFRESH:
// libedit assumes the cursor is at the prompt's origin and redraws from there).
// To find the prompt's first row we replay libedit's own layout rules
// (refresh.c: re_putc / re_addc / prompt_print) for the prompt and the buffer.
//
// libedit is only ever called from the thread that calls readLine.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@preconcurrency import CLibEdit
@preconcurrency import CLineEditShim

// MARK: - libedit callbacks (capture-free; the editor comes from EL_CLIENTDATA)

private func editor(_ el: OpaquePointer?) -> LineEditor? {
    guard let el, let p = stompsh_el_get_clientdata(el) else { return nil }
    return Unmanaged<LineEditor>.fromOpaque(p).takeUnretainedValue()
}

private let getcCallback: stompsh_el_getc_fn = { el, wc in
    guard let ed = editor(el), let wc else { return -1 }
    return ed.readChar(wc)
}

private let promptCallback: stompsh_el_wprompt_fn = { el in
    editor(el)?.promptBuffer
}

private let completeCallback: stompsh_el_cmd_fn = { el, _ in
    guard let ed = editor(el) else { return UInt8(CC_ERROR) }
    return ed.complete()
}

// MARK: - Line editor

/// libedit on the terminal. Use it only when stdin is a terminal
/// (`LineEditor.stdinIsTerminal`); otherwise use `PlainLineReader`.
public final class LineEditor: LineSource {
    /// Tab: given the line and the cursor (offsets in Characters), return the
    /// start of the text to replace and the candidates. One candidate replaces
    /// it (plus a space); several: their common prefix is inserted, and a second
    /// Tab lists them above the prompt.
    public var completer: ((_ line: String, _ cursor: Int) -> (replaceFrom: Int, candidates: [String]))?
    /// Greyed text shown after the cursor while the cursor is at the end of the
    /// line (e.g. the remaining synopsis). Asked again after every keystroke.
    public var hinter: ((_ line: String) -> String?)?
    /// Called on the REPL thread when the WakeUp fired while waiting for keys;
    /// the shell drains its inbox and calls printAbove.
    public var onWake: (() -> Void)?
    /// SGR sequence for hints (default: bright black; faint when NO_COLOR is set).
    public var hintStyle: String

    public let wake: WakeUp
    public let history: History?

    /// True while readLine is waiting for the user (printAbove then redraws).
    public private(set) var isReading = false

    /// Whether stdin is a terminal (use LineEditor) or not (use PlainLineReader).
    public static var stdinIsTerminal: Bool { isatty(0) == 1 }

    private let el: OpaquePointer
    private var hist: OpaquePointer?
    private let inFD: Int32 = 0
    fileprivate var promptBuffer: UnsafeMutablePointer<wchar_t>
    private var promptWide: [wchar_t] = [0]
    private static let literalMarker: wchar_t = 1

    private var pending: [UInt8] = []
    private var interrupted = false
    private var hintShown = false
    private var lastTab: (line: [wchar_t], cursor: Int)?

    public init(programName: String, wake: WakeUp, history: History?) {
        self.wake = wake
        self.history = history
        hintStyle = Self.environment("NO_COLOR").map { _ in "\u{1B}[2m" } ?? "\u{1B}[90m"
        promptBuffer = UnsafeMutablePointer<wchar_t>.allocate(capacity: 1)
        promptBuffer.initialize(to: 0)

        Self.setUTF8Locale()
        guard let e = el_init(programName, stdin, stdout, stderr) else {
            fatalError("LineEditor: el_init failed")
        }
        el = e
        stompsh_el_set_clientdata(el, Unmanaged.passUnretained(self).toOpaque())
        _ = stompsh_el_set_signal(el, 0)
        _ = stompsh_el_set_editor(el, "emacs")
        _ = stompsh_el_set_wprompt(el, promptCallback, Self.literalMarker)
        _ = stompsh_el_set_getc(el, getcCallback)
        _ = stompsh_el_addfn(el, "stompsh-complete", "Complete the word before the cursor", completeCallback)
        _ = stompsh_el_bind(el, "^I", "stompsh-complete")

        if let history {
            hist = stompsh_history_new(Int32(clamping: max(1, history.maxEntries)))
            if let hist { _ = stompsh_el_set_whistory(el, hist) }
            reloadHistory()
            history.observer = { [weak self] change in
                guard let self, let hist = self.hist else { return }
                switch change {
                case .added(let line): _ = Self.withWide(line) { stompsh_history_enter(hist, $0) }
                case .reset: self.reloadHistory()
                }
            }
        }
        // The user's ~/.editrc (or $EDITRC) last, so it can override our bindings.
        _ = el_source(el, nil)

        if !Interrupt.isInstalled { Interrupt.install(wake: wake) }
        TerminalSignals.installWindowChange()
    }

    deinit {
        history?.observer = nil
        el_end(el)
        if let hist { stompsh_history_free(hist) }
        promptBuffer.deallocate()
    }

    /// Read one line. Ctrl-C while editing → `.interrupted` (the line is
    /// discarded, like bash; "^C" is shown and the cursor is on a fresh line);
    /// Ctrl-D on an empty line (or stdin closing) → `.endOfFile` (the cursor
    /// stays after the echoed "^D": print a newline). The prompt may contain
    /// ANSI escape sequences (colours); keep it on one line.
    public func readLine(prompt: String) -> LineReadResult {
        setPrompt(prompt)
        Interrupt.clear()
        interrupted = false
        hintShown = false
        lastTab = nil
        fflush(stdout)
        isReading = true
        var count: Int32 = 0
        let p = el_wgets(el, &count)
        isReading = false
        if interrupted {
            return .interrupted
        }
        guard let p, count > 0 else {
            // Ctrl-D: libedit echoed "^D" after the prompt and left the cursor
            // there; the caller prints a newline (or "exit") before leaving.
            return .endOfFile
        }
        var n = Int(count)
        if n > 0 && p[n - 1] == 10 { n -= 1 }
        return .line(Self.string(UnsafeBufferPointer(start: p, count: n)))
    }

    /// Print `text` (may contain newlines; a final newline is added if missing)
    /// ABOVE the prompt, then redraw the prompt and the partly typed line.
    /// REPL thread only. Outside readLine it just writes to stdout. `prompt`: the prompt to redraw
    /// with, when it changed meanwhile (the connection was lost).
    public func printAbove(_ text: String, prompt: String? = nil) {
        var body = text
        if !body.hasSuffix("\n") { body += "\n" }
        guard isReading else {
            fflush(stdout)
            OutputWriter.standard.write(body, to: .stdout)
            return
        }
        let pos = layout()
        var out = pos.cursor.v > 0 ? "\u{1B}[\(pos.cursor.v)A" : ""
        out += "\r\u{1B}[J"
        out += body.replacingNewlines()
        hintShown = false
        fflush(stdout)
        OutputWriter.standard.write(out, to: .stdout)
        if let prompt { setPrompt(prompt) }
        _ = stompsh_el_refresh(el)
    }

    // MARK: prompt

    private func setPrompt(_ prompt: String) {
        let w = LineLayout.promptWithLiterals(prompt, marker: Self.literalMarker)
        promptWide = w
        promptBuffer.deallocate()
        promptBuffer = UnsafeMutablePointer<wchar_t>.allocate(capacity: w.count + 1)
        promptBuffer.initialize(from: w, count: w.count)
        promptBuffer[w.count] = 0
    }

    // MARK: key input (EL_GETCFN)

    /// libedit's read function: one wide character, 0 at EOF, -1 on interrupt.
    fileprivate func readChar(_ wc: UnsafeMutablePointer<wchar_t>) -> Int32 {
        var chunk = [UInt8](repeating: 0, count: 256)
        while true {
            if Interrupt.requested {
                Interrupt.clear()
                return abortLine()
            }
            if TerminalSignals.takeWindowChange() {
                el_resize(el)
            }
            if let c = decodePending() {
                eraseHint()
                if c == 3 { return abortLine() }      // ^C as a byte (ISIG off via stty/editrc)
                wc.pointee = c
                return 1
            }
            if !pendingNeedsMore && !inputReady() { drawHint() }

            var fds = [pollfd(fd: inFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0)]
            let rc = poll(&fds, 2, -1)
            if rc < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return -1
            }
            if (fds[1].revents & Int16(POLLIN)) != 0 {
                wake.drain()
                if Interrupt.requested { continue }
                eraseHint()
                onWake?()
            }
            if (fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR)) != 0 {
                let n = chunk.withUnsafeMutableBytes { read(inFD, $0.baseAddress, 256) }
                if n > 0 {
                    pending.append(contentsOf: chunk[0..<n])
                } else if n == 0 {
                    eraseHint()
                    return 0
                } else if errno != EINTR && errno != EAGAIN {
                    eraseHint()
                    return -1
                }
            }
        }
    }

    private var pendingNeedsMore = false

    /// Decode one UTF-8 character from `pending` with the stdlib (invalid bytes → U+FFFD).
    private func decodePending() -> wchar_t? {
        pendingNeedsMore = false
        switch TerminalUTF8.first(pending) {
        case nil: return nil
        case .scalar(let u, let length)?:
            pending.removeFirst(length)
            return wchar_t(bitPattern: u.value)
        case .invalid(let length)?:
            pending.removeFirst(length)
            return 0xFFFD
        case .incomplete?:
            // wait for the rest unless nothing more is coming
            if inputReady(timeoutMS: 50) { pendingNeedsMore = true; return nil }
            pending.removeAll()
            return 0xFFFD
        }
    }

    private func inputReady(timeoutMS: Int32 = 0) -> Bool {
        var pfd = pollfd(fd: inFD, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, timeoutMS) > 0
    }

    /// Ctrl-C: show ^C at the end of the line, move below it, make el_wgets return.
    private func abortLine() -> Int32 {
        eraseHint()
        let pos = layout()
        var out = ""
        if pos.end.v > pos.cursor.v { out += "\u{1B}[\(pos.end.v - pos.cursor.v)B" }
        out += "\r"
        if pos.end.h > 0 { out += "\u{1B}[\(pos.end.h)C" }
        out += "^C\r\n"
        fflush(stdout)
        OutputWriter.standard.write(out, to: .stdout)
        interrupted = true
        pending.removeAll()
        errno = EINTR
        return -1
    }

    // MARK: hints

    private func drawHint() {
        guard !hintShown, isReading, let hinter else { return }
        let (w, c) = lineWide()
        guard c == w.count else { return }
        guard var hint = hinter(Self.string(w[...])), !hint.isEmpty else { return }
        hint = String(hint.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        let cols = columns()
        let pos = layout()
        let room = cols - pos.end.h - 1
        guard room > 0 else { return }
        var shown = ""
        var width = 0
        for u in hint.unicodeScalars {
            let cw = max(0, Int(stompsh_wcwidth(wchar_t(bitPattern: u.value))))
            if width + cw > room { break }
            shown.unicodeScalars.append(u)
            width += cw
        }
        guard width > 0 else { return }
        fflush(stdout)
        OutputWriter.standard.write(hintStyle + shown + "\u{1B}[0m\u{1B}[\(width)D", to: .stdout)
        hintShown = true
    }

    private func eraseHint() {
        guard hintShown else { return }
        hintShown = false
        fflush(stdout)
        OutputWriter.standard.write("\u{1B}[K", to: .stdout)
    }

    // MARK: completion (bound to Tab)

    fileprivate func complete() -> UInt8 {
        guard let completer else { return UInt8(CC_ERROR) }
        let (w, c) = lineWide()
        let line = Self.string(w[...])
        let before = Self.string(w[0..<c])
        let cursorChars = before.count
        let result = completer(line, cursorChars)
        let from = min(max(0, result.replaceFrom), cursorChars)
        let word = String(before.dropFirst(from))
        var seen = Set<String>()
        let candidates = result.candidates.filter { !$0.isEmpty && seen.insert($0).inserted }
        guard !candidates.isEmpty else { lastTab = nil; return UInt8(CC_ERROR) }

        if candidates.count == 1 {
            var insert = candidates[0]
            let nextIsSpace = c < w.count && (w[c] == 32 || w[c] == 9)
            if !insert.hasSuffix(" ") && !nextIsSpace { insert += " " }
            replaceBeforeCursor(scalars: word.unicodeScalars.count, with: insert)
            lastTab = nil
            return UInt8(CC_REFRESH)
        }
        let prefix = LineLayout.commonPrefix(candidates)
        if prefix.count > word.count {
            replaceBeforeCursor(scalars: word.unicodeScalars.count, with: prefix)
            let now = lineWide()
            lastTab = (now.line, now.cursor)
            return UInt8(CC_REFRESH)
        }
        if let last = lastTab, last.line == w, last.cursor == c {
            printAbove(LineLayout.columnize(candidates.sorted(), width: columns()))
            return UInt8(CC_NORM)
        }
        lastTab = (w, c)
        return UInt8(CC_ERROR)   // beep; a second Tab lists
    }

    private func replaceBeforeCursor(scalars count: Int, with text: String) {
        if count > 0 { el_deletestr(el, Int32(count)) }
        _ = Self.withWide(text) { el_winsertstr(el, $0) }
    }

    // MARK: layout (mirrors libedit's refresh.c)

    private func columns() -> Int {
        let co = Int(stompsh_el_columns(el))
        return co > 0 ? co : (TerminalSignals.columns() ?? 80)
    }

    /// Where libedit put the cursor and the end of the line, in rows/columns
    /// relative to the prompt's first row.
    private func layout() -> (cursor: LineLayout.Pos, end: LineLayout.Pos) {
        let (w, c) = lineWide()
        return LineLayout.layout(prompt: promptWide, marker: Self.literalMarker, buffer: w, cursor: c, columns: columns())
    }

    // MARK: helpers

    private func lineWide() -> (line: [wchar_t], cursor: Int) {
        guard let li = el_wline(el) else { return ([], 0) }
        let info = li.pointee
        guard let buf = info.buffer, let last = info.lastchar, let cur = info.cursor else { return ([], 0) }
        let n = max(0, last - buf)
        let c = min(max(0, cur - buf), n)
        return (Array(UnsafeBufferPointer(start: buf, count: n)), c)
    }

    private func reloadHistory() {
        guard let hist, let history else { return }
        _ = stompsh_history_clear(hist)
        _ = stompsh_history_setsize(hist, Int32(clamping: max(1, history.maxEntries)))
        for e in history.entries { _ = Self.withWide(e) { stompsh_history_enter(hist, $0) } }
    }

    static func string<C: Collection>(_ w: C) -> String where C.Element == wchar_t {
        var s = String.UnicodeScalarView()
        for c in w { s.append(Unicode.Scalar(UInt32(bitPattern: c)) ?? "\u{FFFD}") }
        return String(s)
    }

    static func withWide<R>(_ s: String, _ body: (UnsafePointer<wchar_t>) -> R) -> R {
        var w = s.unicodeScalars.map { wchar_t(bitPattern: $0.value) }
        w.append(0)
        return w.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// libedit needs a UTF-8 LC_CTYPE for wide characters; fall back to C.UTF-8
    /// when the environment gives plain ASCII.
    static func setUTF8Locale() {
        _ = setlocale(LC_CTYPE, "")
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        if codeset.uppercased().filter({ $0 != "-" }) != "UTF8" {
            if setlocale(LC_CTYPE, "C.UTF-8") == nil { _ = setlocale(LC_CTYPE, "C.utf8") }
        }
    }
}

private extension String {
    /// "\n" → "\r\n" (the terminal may be in raw mode).
    func replacingNewlines() -> String {
        var out = ""
        var prevCR = false
        for u in unicodeScalars {
            if u == "\n" && !prevCR { out += "\r" }
            out.unicodeScalars.append(u)
            prevCR = u == "\r"
        }
        return out
    }
}
