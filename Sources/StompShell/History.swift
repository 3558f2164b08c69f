// Command history: in memory for the line editor (Up/Down, Ctrl-R), on disk in
// ~/.stompsh_history (STOMPSH_HISTFILE overrides), file mode 0600.
//
// The shell decides what is sensitive and simply doesn't call add() for it.
//
// File format: one entry per line, UTF-8. A backslash, a newline and a carriage
// return inside an entry are written as \\, \n and \r, so multi-line entries
// survive; any other backslash is kept as is when reading.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class History {
    /// The history file; nil keeps the history in memory only.
    public let path: String?
    /// At most this many entries are kept (in memory and in the file).
    public var maxEntries: Int {
        didSet { maxEntries = max(0, maxEntries); trim(); changed(.reset) }
    }
    /// When true (the default), add() appends the entry to the file at once,
    /// so the history survives a crash; save() rewrites (and trims) the file.
    public var autoSave: Bool = true
    /// The last I/O error of load()/save()/add(), for the shell to report.
    public private(set) var lastError: String?

    /// Oldest first.
    public var entries: [String] {
        didSet { trim(); changed(.reset) }
    }

    enum Change { case added(String), reset }
    /// The line editor mirrors entries into libedit's history through this.
    var observer: ((Change) -> Void)?
    /// Lines in the file as far as we know (appends since the last rewrite).
    private var linesInFile = 0

    /// `path`: usually `History.defaultPath()`.
    public init(path: String?, maxEntries: Int = 1000) {
        self.path = path
        self.maxEntries = max(0, maxEntries)
        self.entries = []
    }

    /// STOMPSH_HISTFILE if set (empty: no history file), else ~/.stompsh_history;
    /// nil when neither is available.
    public static func defaultPath(environment: [String: String] = currentEnvironment()) -> String? {
        if let p = environment["STOMPSH_HISTFILE"] { return p.isEmpty ? nil : p }
        if let home = environment["HOME"], !home.isEmpty {
            return home.hasSuffix("/") ? home + ".stompsh_history" : home + "/.stompsh_history"
        }
        if let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir {
            return String(cString: dir) + "/.stompsh_history"
        }
        return nil
    }

    public static func currentEnvironment() -> [String: String] {
        var env: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                env[String(s[..<eq])] = String(s[s.index(after: eq)...])
            }
            p += 1
        }
        return env
    }

    /// Add a line (empty/blank lines and a repeat of the previous entry are ignored).
    public func add(_ line: String) {
        var line = line
        while line.hasSuffix("\n") || line.hasSuffix("\r") { line.removeLast() }
        guard !line.allSatisfy({ $0 == " " || $0 == "\t" }), line != entries.last, maxEntries > 0 else { return }
        // Bypass didSet: an incremental change, not a reset.
        withoutObserving { entries.append(line) }
        if entries.count > maxEntries { withoutObserving { entries.removeFirst(entries.count - maxEntries) } }
        changed(.added(line))
        if autoSave, path != nil {
            if linesInFile >= maxEntries + max(50, maxEntries / 4) {
                save()
            } else if appendToFile(line) {
                linesInFile += 1
            }
        }
    }

    /// Replace the entries with the file's (its last maxEntries lines). A
    /// missing file is an empty history.
    public func load() {
        guard let path else { return }
        lastError = nil
        guard let data = Self.readFile(path) else {
            if errno != ENOENT { lastError = "\(path): \(String(cString: strerror(errno)))" }
            withoutObserving { entries = [] }
            linesInFile = 0
            changed(.reset)
            return
        }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
            .map { Self.unescape(String($0)) }
        linesInFile = lines.count
        if lines.count > maxEntries { lines.removeFirst(lines.count - maxEntries) }
        withoutObserving { entries = lines }
        changed(.reset)
    }

    /// Rewrite the file with the entries (atomically, mode 0600).
    @discardableResult
    public func save() -> Bool {
        guard let path else { return true }
        lastError = nil
        trim()
        var text = ""
        for e in entries { text += Self.escape(e); text += "\n" }
        let tmp = path + ".tmp\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return fail(tmp) }
        _ = fchmod(fd, 0o600)
        let ok = Self.writeAll(fd, Array(text.utf8))
        if close(fd) != 0 || !ok { let r = fail(tmp); unlink(tmp); return r }
        guard rename(tmp, path) == 0 else { let r = fail(path); unlink(tmp); return r }
        linesInFile = entries.count
        return true
    }

    // MARK: - private

    private var observing = true
    private func withoutObserving(_ body: () -> Void) {
        let was = observing
        observing = false
        body()
        observing = was
    }
    private func changed(_ change: Change) {
        if observing { observer?(change) }
    }
    private func trim() {
        if entries.count > maxEntries {
            withoutObserving { entries.removeFirst(entries.count - maxEntries) }
        }
    }
    private func fail(_ p: String) -> Bool {
        lastError = "\(p): \(String(cString: strerror(errno)))"
        return false
    }

    private func appendToFile(_ line: String) -> Bool {
        guard let path else { return false }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return fail(path) }
        defer { close(fd) }
        _ = fchmod(fd, 0o600)
        return Self.writeAll(fd, Array((Self.escape(line) + "\n").utf8)) || fail(path)
    }

    static func escape(_ s: String) -> String {
        guard s.contains(where: { $0 == "\\" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out = String.UnicodeScalarView()
        var it = s.unicodeScalars.makeIterator()
        while let u = it.next() {
            guard u == "\\" else { out.append(u); continue }
            guard let n = it.next() else { out.append(u); break }
            switch n {
            case "\\": out.append("\\")
            case "n": out.append("\n")
            case "r": out.append("\r")
            default: out.append(u); out.append(n)
            }
        }
        return String(out)
    }

    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n > 0 { data.append(contentsOf: buf[0..<n]); continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            return data
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n > 0 { off += n; continue }
            if n < 0 && errno == EINTR { continue }
            return false
        }
        return true
    }
}
