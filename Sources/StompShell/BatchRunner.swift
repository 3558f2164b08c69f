// Batch mode: scripts (-f FILE, -f -), -c commands and piped stdin run through the same dispatcher.
//
// Logical lines (continuations, comments, heredocs, a leading `-`): LogicalLineReader.swift.
// Errors print `NAME:LINE:COL: error: MESSAGE` on stderr.

import Foundation
import StompProto

/// Standard input through PlainLineReader: frames that arrive while waiting for the next line are printed.
public final class StdinScriptSource: ScriptSource {
    public let name: String
    let reader: PlainLineReader

    public init(shell: Shell, name: String = "<stdin>") {
        self.name = name
        reader = PlainLineReader(fd: 0)
        reader.wake = shell.wake
        reader.onWake = { [unowned shell] in shell.processEvents() }
    }

    public func nextLine() throws -> String? {
        while true {
            switch reader.readLineBytes() {
            case .line(let bytes): return try UTF8Text.decode(bytes).get()
            case .endOfFile: return nil
            case .interrupted: continue
            }
        }
    }
}

public final class BatchRunner {
    public let shell: Shell
    /// The worst exit status so far (0, 1, 3; 2 for usage errors).
    public private(set) var status: Int32 = 0

    public init(shell: Shell) { self.shell = shell }

    /// Runs every line of the source. Returns false if it stopped on an error (or quit).
    @discardableResult
    public func run(_ source: ScriptSource, ignoreAllErrors: Bool = false) -> Bool {
        var reader = LogicalLineReader(source, table: shell.table)
        while let line = reader.next() {
            if let e = line.refusal {
                if !report(e, source: source, at: line, ignore: line.ignoresErrors) { return false }
                continue
            }
            do {
                try shell.run(line: line.text, block: line.block)
            } catch let e as ShellError {
                if !report(e, source: source, at: line, ignore: line.ignoresErrors || ignoreAllErrors) { return false }
            } catch {
                if !report(ShellError("\(error)"), source: source, at: line, ignore: line.ignoresErrors) { return false }
            }
            if shell.shouldQuit { return false }
        }
        return true
    }

    /// Prints the error; returns whether to go on.
    /// A failed standard output or recording ends the run whatever `on-error` or a leading `-` say.
    func report(_ e: ShellError, source: ScriptSource, at line: LogicalLine, ignore: Bool) -> Bool {
        let (lineNumber, column) = line.position(of: e)
        var text = "\(source.name):\(lineNumber):\(column): error: \(e.message)"
        if let note = e.note { text += "\n" + note }
        shell.output.error(text)
        if shell.output.failure != nil || shell.recordingFailure != nil {
            status = max(status, 1)
            return false
        }
        if ignore { return true }
        status = max(status, max(e.exitStatus, 1))
        return shell.settings.onError == .continue
    }

    /// After the last script: print what arrived, disconnect gracefully, fail on an unexpected broker ERROR.
    public func finish() -> Int32 {
        shell.processEvents()
        let reportedOutputFailure = shell.outputFailureReported
        do { try shell.checkOutput() } catch let e as ShellError {
            // standard output failed where no script line could report it (e.g. the first connect's line)
            if !reportedOutputFailure { shell.output.error("stompsh: error: \(e.message)") }
            status = max(status, 1)
        } catch {}
        if shell.client != nil {
            // after Ctrl-C (130) the DISCONNECT gets ConnectionTimeouts.interruptedGrace, not the receipt timeout
            do { try shell.disconnect(grace: status == 130 ? ConnectionTimeouts.interruptedGrace : nil) } catch let e as ShellError {
                // Unconfirmed sends fail a run that nothing else failed (one that did already says why).
                if status == 0 {
                    shell.output.error("stompsh: error: \(e.message)")
                    status = 1
                }
            } catch {}
        }
        shell.processEvents()
        // Standard output may fail while the DISCONNECT is awaited (what arrives meanwhile is printed): the shell
        // then closed the connection at once; the failure is this run's, reported once.
        if let failure = shell.output.failure, !shell.outputFailureReported {
            shell.outputFailureReported = true
            shell.output.error("stompsh: error: \(failure): stopped")
            status = max(status, 1)
        }
        if let f = shell.recordingFailure, !shell.recordingFailureReported {
            // the last frames (the DISCONNECT) could not be recorded
            shell.recordingFailureReported = true
            shell.output.error("stompsh: error: recording stopped: \(f)")
            status = max(status, 1)
        }
        if shell.lostForGood {
            status = max(status, 3)    // its cause is printed when it happened
        } else if let e = shell.inbox.errors.first, status == 0 {
            // The connection survived the ERROR (its frame was printed when it came): a failure, not a loss.
            shell.output.error("error: no expect-error took the broker's ERROR (\(VisibleText.value(e.headers["message"] ?? "")))")
            status = 1
        }
        return status
    }

    /// Marks a failure that happened outside a script (e.g. the initial connect).
    public func fail(_ status: Int32) { self.status = max(self.status, status) }
}
