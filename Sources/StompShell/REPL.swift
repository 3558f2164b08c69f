// The interactive loop: libedit (LineEditor) on a terminal, plain lines otherwise.

import Foundation

public final class REPL {
    public let shell: Shell
    let source: LineSource
    let editor: LineEditor?
    let history: History?

    /// `historyPath`: nil → STOMPSH_HISTFILE or ~/.stompsh_history.
    public init(shell: Shell, historyPath: String? = nil) {
        self.shell = shell
        shell.interactive = true
        let env = ProcessInfo.processInfo.environment
        let path = historyPath ?? History.defaultPath() ?? ""
        let size = Int(env["STOMPSH_HISTSIZE"] ?? "") ?? 1000
        if isatty(0) == 1 {
            let h = History(path: path.isEmpty ? nil : path, maxEntries: size)
            h.load()
            history = h
            let e = LineEditor(programName: "stompsh", wake: shell.wake, history: h)
            e.completer = { [unowned shell] line, cursor in
                let prefix = String(line.prefix(cursor))
                return Completer.complete(shell: shell, line: prefix)
            }
            e.hinter = { [unowned shell] line in Completer.hint(shell: shell, line: line) }
            editor = e
            source = e
        } else {
            history = nil
            editor = nil
            source = PlainLineReader(fd: 0)
        }
        if let e = editor {
            e.onWake = { [unowned shell, unowned e] in
                // frames that arrive while the user types: print them above the prompt
                var text = ""
                let saved = shell.output.sink
                let promptBefore = shell.prompt
                shell.output.sink = { t, _ in text += t }
                shell.processEvents()
                shell.output.sink = saved
                // A connection lost meanwhile changes the prompt: redraw it at once, not at the next line.
                let promptNow = shell.prompt
                if !text.isEmpty || promptNow != promptBefore {
                    if text.hasSuffix("\n") { text.removeLast() }
                    e.printAbove(text, prompt: promptNow == promptBefore ? nil : promptNow)
                }
                shell.processEvents()       // closes the connection at once if the terminal could not be written
            }
        }
    }

    /// Runs until quit/exit or end of input. Returns the exit status (0).
    public func run() -> Int32 {
        Interrupt.install(wake: shell.wake)
        while !shell.shouldQuit {
            shell.processEvents()
            switch source.readLine(prompt: shell.prompt) {
            case .endOfFile:
                if editor != nil { shell.output.emit("") }
                return finish()
            case .interrupted:
                Interrupt.clear()
                continue
            case .line(let first):
                var line = first
                while line.hasSuffix("\\"), !line.hasSuffix("\\\\") {
                    line.removeLast()
                    guard case .line(let more) = source.readLine(prompt: "> ") else { break }
                    line += more
                }
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                var block: [String]?
                if let term = LineParser.blockTerminator(for: line, table: shell.table) {
                    var lines: [String] = []
                    var complete = false
                    reading: while true {
                        switch source.readLine(prompt: term == "." ? "raw> " : "\(term)> ") {
                        case .line(let l):
                            if l == term { complete = true; break reading }
                            lines.append(l)
                        case .endOfFile, .interrupted:
                            Interrupt.clear()
                            break reading
                        }
                    }
                    if !complete { shell.output.error("cancelled"); continue }
                    block = lines
                }
                if let history, !shell.isSensitive(line) {
                    history.add(line)
                }
                Interrupt.clear()
                do {
                    try shell.run(line: line, block: block)
                } catch let e as ShellError {
                    report(e, line: line)
                } catch {
                    shell.output.error("error: \(error)")
                }
                if shell.output.failure != nil { return finish(status: 1) }   // the terminal is gone
            }
        }
        return finish()
    }

    func report(_ e: ShellError, line: String) {
        var text = "error: \(e.message)"
        if let col = e.column, e.lineOffset == 0, e.message != "interrupted", col >= 1, col <= line.count + 1, line.count < 200, !line.contains("\t") {
            text = "  \(line)\n  \(String(repeating: " ", count: col - 1))^\n" + text
        }
        if let note = e.note { text += "\n" + note }
        shell.output.error(text)
    }

    func finish(status: Int32 = 0) -> Int32 {
        if shell.client != nil {
            do { try shell.disconnect() } catch let e as ShellError { shell.output.error("error: \(e.message)") } catch {}
        }
        _ = history?.save()
        return status
    }
}
