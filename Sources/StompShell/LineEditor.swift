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

public enum LineReadResult: Equatable {
    case line(String)
    case endOfFile
    case interrupted
}

public protocol LineSource: AnyObject {
    func readLine(prompt: String) -> LineReadResult
}

// MARK: - Plain reader

/// Reads lines from a file descriptor without editing: for stdin when it is not
/// a terminal (batch mode), and for tests. A line ends at LF; a CR before the LF
/// is removed; a last line without LF is returned; then `.endOfFile`.
/// Invalid UTF-8 is replaced by U+FFFD.
public final class PlainLineReader: LineSource {
    public let fd: Int32
    /// Write the prompt to stdout before reading (off by default: batch mode has no prompt).
    public var echoPrompt = false
    /// Optional: poll this pipe too while waiting, and call `onWake` when it fires.
    public var wake: WakeUp?
    public var onWake: (() -> Void)?

    private var buffer: [UInt8] = []
    private var start = 0
    private var atEOF = false

    public init(fd: Int32 = 0) {
        self.fd = fd
    }

    public func readLine(prompt: String) -> LineReadResult {
        if echoPrompt && !prompt.isEmpty {
            fputs(prompt, stdout)
            fflush(stdout)
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let nl = buffer[start...].firstIndex(of: 10) {
                var end = nl
                if end > start && buffer[end - 1] == 13 { end -= 1 }
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                start = nl + 1
                if start > 65536 && start * 2 > buffer.count {
                    buffer.removeFirst(start)
                    start = 0
                }
                return .line(line)
            }
            if atEOF {
                guard start < buffer.count else { return .endOfFile }
                let line = String(decoding: buffer[start...], as: UTF8.self)
                buffer = []
                start = 0
                return .line(line)
            }
            // Wait for input (and the wake-up pipe, if any).
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            if let wake { fds.append(pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0)) }
            let rc = poll(&fds, nfds_t(fds.count), -1)
            if rc < 0 {
                if errno == EINTR {
                    if Interrupt.requested { Interrupt.clear(); return .interrupted }
                    continue
                }
                // poll() refuses some descriptors (e.g. regular files on some systems): read directly.
            }
            if fds.count > 1 && (fds[1].revents & Int16(POLLIN)) != 0 {
                wake?.drain()
                if Interrupt.requested { Interrupt.clear(); return .interrupted }
                onWake?()
                if (fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR)) == 0 && rc >= 0 { continue }
            }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
            } else if n == 0 {
                atEOF = true
            } else if errno == EINTR {
                if Interrupt.requested { Interrupt.clear(); return .interrupted }
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                continue
            } else {
                atEOF = true
            }
        }
    }
}

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
            fputs(body, stdout)
            fflush(stdout)
            return
        }
        let pos = layout()
        var out = pos.cursor.v > 0 ? "\u{1B}[\(pos.cursor.v)A" : ""
        out += "\r\u{1B}[J"
        out += body.replacingNewlines()
        hintShown = false
        fputs(out, stdout)
        fflush(stdout)
        if let prompt { setPrompt(prompt) }
        _ = stompsh_el_refresh(el)
    }

    /// The current line and cursor (Characters), e.g. for tests or status.
    public var currentLine: (line: String, cursor: Int) {
        let (w, c) = lineWide()
        let prefix = Self.string(w[0..<c])
        return (Self.string(w[...]), prefix.count)
    }

    // MARK: prompt

    private func setPrompt(_ prompt: String) {
        let w = Self.promptWithLiterals(prompt, marker: Self.literalMarker)
        promptWide = w
        promptBuffer.deallocate()
        promptBuffer = UnsafeMutablePointer<wchar_t>.allocate(capacity: w.count + 1)
        promptBuffer.initialize(from: w, count: w.count)
        promptBuffer[w.count] = 0
    }

    /// Wrap escape sequences in libedit's literal markers (EL_PROMPT_ESC).
    /// libedit attaches a literal to the visible character that follows it and
    /// drops a literal at the very end, so trailing sequences are moved before
    /// the last visible character.
    static func promptWithLiterals(_ prompt: String, marker: wchar_t) -> [wchar_t] {
        enum Piece { case visible(Unicode.Scalar), escape(String) }
        var pieces: [Piece] = []
        let scalars = Array(prompt.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let u = scalars[i]
            if u.value == UInt32(bitPattern: marker) || u == "\n" || u == "\r" { i += 1; continue }
            guard u == "\u{1B}" else { pieces.append(.visible(u)); i += 1; continue }
            var j = i + 1
            if j < scalars.count && scalars[j] == "[" {              // CSI ... final 0x40-0x7E
                j += 1
                while j < scalars.count && !(0x40...0x7E).contains(scalars[j].value) { j += 1 }
                j += 1
            } else if j < scalars.count && scalars[j] == "]" {       // OSC ... BEL | ESC \
                j += 1
                while j < scalars.count && scalars[j] != "\u{07}" && scalars[j] != "\u{1B}" { j += 1 }
                j += (j < scalars.count && scalars[j] == "\u{1B}") ? 2 : 1
            } else {
                j += 1
            }
            j = min(j, scalars.count)
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[i..<j])
            if case .escape(let prev)? = pieces.last {
                pieces[pieces.count - 1] = .escape(prev + String(s))
            } else {
                pieces.append(.escape(String(s)))
            }
            i = j
        }
        // Trailing escapes: move them before the last visible character.
        if case .escape(let tail)? = pieces.last {
            pieces.removeLast()
            if let lastVisible = pieces.lastIndex(where: { if case .visible = $0 { return true }; return false }) {
                if lastVisible > 0, case .escape(let before) = pieces[lastVisible - 1] {
                    pieces[lastVisible - 1] = .escape(before + tail)
                } else {
                    pieces.insert(.escape(tail), at: lastVisible)
                }
            }
        }
        var out: [wchar_t] = []
        for p in pieces {
            switch p {
            case .visible(let u): out.append(wchar_t(bitPattern: u.value))
            case .escape(let s):
                out.append(marker)
                out.append(contentsOf: s.unicodeScalars.map { wchar_t(bitPattern: $0.value) })
                out.append(marker)
            }
        }
        return out
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

    /// Decode one UTF-8 character from `pending` (invalid bytes → U+FFFD).
    private func decodePending() -> wchar_t? {
        pendingNeedsMore = false
        guard let b0 = pending.first else { return nil }
        let len: Int
        switch b0 {
        case 0x00...0x7F: pending.removeFirst(); return wchar_t(b0)
        case 0xC2...0xDF: len = 2
        case 0xE0...0xEF: len = 3
        case 0xF0...0xF4: len = 4
        default: pending.removeFirst(); return 0xFFFD
        }
        var value = UInt32(b0) & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07)
        for k in 1..<len {
            guard k < pending.count else {
                // Incomplete: wait for the rest unless nothing more is coming.
                if inputReady(timeoutMS: 50) { pendingNeedsMore = true; return nil }
                pending.removeFirst(k)
                return 0xFFFD
            }
            let b = pending[k]
            guard b & 0xC0 == 0x80 else { pending.removeFirst(k); return 0xFFFD }
            value = value << 6 | UInt32(b & 0x3F)
        }
        pending.removeFirst(len)
        guard Unicode.Scalar(value) != nil else { return 0xFFFD }
        return wchar_t(bitPattern: value)
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
        fputs(out, stdout)
        fflush(stdout)
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
        fputs(hintStyle + shown + "\u{1B}[0m\u{1B}[\(width)D", stdout)
        fflush(stdout)
        hintShown = true
    }

    private func eraseHint() {
        guard hintShown else { return }
        hintShown = false
        fputs("\u{1B}[K", stdout)
        fflush(stdout)
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
        let prefix = Self.commonPrefix(candidates)
        if prefix.count > word.count {
            replaceBeforeCursor(scalars: word.unicodeScalars.count, with: prefix)
            let now = lineWide()
            lastTab = (now.line, now.cursor)
            return UInt8(CC_REFRESH)
        }
        if let last = lastTab, last.line == w, last.cursor == c {
            printAbove(Self.columnize(candidates.sorted(), width: columns()))
            return UInt8(CC_NORM)
        }
        lastTab = (w, c)
        return UInt8(CC_ERROR)   // beep; a second Tab lists
    }

    private func replaceBeforeCursor(scalars count: Int, with text: String) {
        if count > 0 { el_deletestr(el, Int32(count)) }
        _ = Self.withWide(text) { el_winsertstr(el, $0) }
    }

    static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first.map({ Array($0) }) else { return "" }
        for w in words.dropFirst() {
            let a = Array(w)
            var n = 0
            while n < prefix.count && n < a.count && prefix[n] == a[n] { n += 1 }
            prefix.removeLast(prefix.count - n)
        }
        return String(prefix)
    }

    /// Lay words out in columns (column-major, like ls) for a terminal `width` wide.
    static func columnize(_ words: [String], width: Int) -> String {
        let widest = words.map { displayWidth($0) }.max() ?? 0
        let colWidth = widest + 2
        let ncols = max(1, min(words.count, (max(width, colWidth) + 1) / colWidth))
        let nrows = (words.count + ncols - 1) / ncols
        var lines: [String] = []
        for r in 0..<nrows {
            var line = ""
            for col in 0..<ncols {
                let i = col * nrows + r
                guard i < words.count else { break }
                let w = words[i]
                line += w
                if col < ncols - 1 && (col + 1) * nrows + r < words.count {
                    line += String(repeating: " ", count: colWidth - displayWidth(w))
                }
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func displayWidth(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { $0 + max(0, Int(stompsh_wcwidth(wchar_t(bitPattern: $1.value)))) }
    }

    // MARK: layout (mirrors libedit's refresh.c)

    struct Pos: Equatable { var v = 0; var h = 0 }

    private func columns() -> Int {
        let co = Int(stompsh_el_columns(el))
        return co > 0 ? co : (TerminalSignals.columns() ?? 80)
    }

    /// Where libedit put the cursor and the end of the line, in rows/columns
    /// relative to the prompt's first row.
    private func layout() -> (cursor: Pos, end: Pos) {
        let (w, c) = lineWide()
        return Self.layout(prompt: promptWide, marker: Self.literalMarker, buffer: w, cursor: c, columns: columns())
    }

    static func layout(prompt: [wchar_t], marker: wchar_t, buffer: [wchar_t], cursor: Int, columns: Int)
        -> (cursor: Pos, end: Pos)
    {
        let cols = max(1, columns)
        var p = Pos()
        func nextLine() { p.h = 0; p.v += 1 }
        func put(_ width: Int32, shift: Bool = true) {
            let w = max(0, Int(width))
            if shift && w <= cols { while p.h + w > cols { put(1) } }
            guard shift else { return }
            p.h += w
            if p.h >= cols { nextLine() }
        }
        // prompt_print
        var i = 0
        while i < prompt.count {
            let ch = prompt[i]
            if ch == 0 { break }
            if ch == marker {
                var j = i + 1
                while j < prompt.count && prompt[j] != marker && prompt[j] != 0 { j += 1 }
                if j >= prompt.count - 1 || prompt[j] == 0 || prompt[j + 1] == 0 { break }   // libedit drops it
                let w = Int(stompsh_wcwidth(prompt[j + 1]))
                if w > 0 {
                    p.h += w
                    if p.h >= cols { nextLine() }
                }
                i = j + 2
                continue
            }
            put(stompsh_wcwidth(ch))
            i += 1
        }
        // the buffer (re_addc)
        var cur: Pos?
        for (k, ch) in buffer.enumerated() {
            if k == cursor {
                cur = p
                let w = Int(stompsh_wcwidth(ch))
                if w > 1 && p.h + w > cols { cur = Pos(v: p.v + 1, h: 0) }
            }
            if ch == 9 {
                repeat { put(1) } while p.h & 7 != 0
            } else if ch == 10 {
                nextLine()
            } else if ch < 0x100 && iswcntrl(wint_t(ch)) != 0 {
                put(1); put(1)
            } else if iswprint(wint_t(ch)) != 0 {
                put(stompsh_wcwidth(ch))
            } else {
                for _ in 0..<(ch > 0xFFFF ? 8 : 7) { put(1) }
            }
        }
        return (cur ?? p, p)
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
