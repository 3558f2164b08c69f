import Foundation
import NIOCore
import StompConnection
import StompProto

/// Drives `StompClient.sendFrames` the way a bench does, for tests: batches written while the socket takes them,
/// a wait for writability when it does not, receipts on every `receiptEvery`-th frame with at most `window` of them
/// outstanding. It measures how far the socket pushed back: bytes handed to the client whose write had not
/// completed yet (what sits in the channel's outbound buffer).
struct FramePump {
    struct Result {
        var frames = 0
        /// Batches that waited: the socket not writable, or `inFlight` writes not completed.
        var pauses = 0
        /// Most bytes written to the client and not yet taken by the socket.
        var maxUnwrittenBytes = 0
    }

    var batch = 100
    /// A receipt on every Nth frame (0: none); its id is "pump-N".
    var receiptEvery = 0
    /// Receipts outstanding at most (with `receiptEvery`).
    var window = 1
    /// Batches whose write has not completed, at most.
    var inFlight = 8

    /// Sends `count` frames made by `frame(i)`; `receiptsArrived()` says how many of the pump's receipts came back.
    func run(_ client: StompClient, count: Int, frame: (Int) -> StompFrame,
             receiptsArrived: () -> Int, timeout: Double = 60) throws -> Result {
        var result = Result()
        let unwritten = Unwritten()
        let encoder = FrameEncoder()
        var futures: [EventLoopFuture<Void>] = []
        var receiptsAsked = 0
        let deadline = Date().addingTimeInterval(timeout)
        var i = 0
        while i < count {
            var frames: [StompFrame] = []
            while frames.count < batch, i < count {
                var f = frame(i)
                i += 1
                if receiptEvery > 0, i % receiptEvery == 0 {
                    while receiptsAsked - receiptsArrived() >= window {
                        guard Date() < deadline else { throw PumpTimedOut(receiptsAsked: receiptsAsked, arrived: receiptsArrived()) }
                        Thread.sleep(forTimeInterval: 0.001)
                    }
                    receiptsAsked += 1
                    f.headers["receipt"] = "pump-\(i)"
                }
                frames.append(f)
            }
            // The socket's own signal, and (for the event loop's queue of writes not yet handed to the socket)
            // at most `inFlight` batches whose write has not completed.
            if !client.isWritable {
                result.pauses += 1
                try client.waitUntilWritable().wait()
            }
            if futures.count >= inFlight {
                if unwritten.completed <= futures.count - inFlight { result.pauses += 1 }
                try futures[futures.count - inFlight].wait()
            }
            var bytes: [UInt8] = []
            for f in frames { try encoder.encode(f, into: &bytes) }
            let size = bytes.count
            unwritten.add(size)
            let written = client.sendFrames(frames)
            written.whenComplete { _ in unwritten.add(-size, completed: 1) }
            futures.append(written)
            result.frames += frames.count
        }
        try EventLoopFuture.andAllSucceed(futures, on: client.eventLoop).wait()
        while receiptsArrived() < receiptsAsked {
            guard Date() < deadline else { throw PumpTimedOut(receiptsAsked: receiptsAsked, arrived: receiptsArrived()) }
            Thread.sleep(forTimeInterval: 0.001)
        }
        result.maxUnwrittenBytes = unwritten.max
        return result
    }

    /// Bytes handed to the client whose write has not completed, and the most there were.
    final class Unwritten: @unchecked Sendable {
        private let lock = NSLock()
        private var now = 0, most = 0, done = 0
        func add(_ n: Int, completed: Int = 0) {
            lock.lock(); now += n; most = Swift.max(most, now); done += completed; lock.unlock()
        }
        var max: Int { lock.lock(); defer { lock.unlock() }; return most }
        /// Batches whose write completed.
        var completed: Int { lock.lock(); defer { lock.unlock() }; return done }
    }

    struct PumpTimedOut: Error { var receiptsAsked: Int; var arrived: Int }
}
