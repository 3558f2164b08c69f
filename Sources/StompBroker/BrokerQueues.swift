/// A queue: messages wait here for one subscriber each, handed out round robin.
final class MessageQueue {
    /// The destination as subscribers see it ("/queue/a", or "/temp-queue/x" for the owner of a temporary queue).
    let destination: String
    /// The NAME of `/queue/NAME`; nil for a temporary queue (owned by its connection).
    let name: String?
    var messages = FIFO<StoredMessage>()
    var consumers: [Subscription] = []
    private var next = 0

    init(destination: String, name: String?) {
        self.destination = destination
        self.name = name
    }

    var isIdle: Bool { messages.isEmpty && consumers.isEmpty }

    /// The next subscriber (round robin) that can take a message now, if any.
    func nextReadyConsumer() -> Subscription? {
        let n = consumers.count
        guard n > 0 else { return nil }
        for i in 0..<n {
            let index = (next + i) % n
            if consumers[index].isReady {
                next = (index + 1) % n
                return consumers[index]
            }
        }
        return nil
    }

    func remove(_ sub: Subscription) {
        guard let i = consumers.firstIndex(where: { $0 === sub }) else { return }
        consumers.remove(at: i)
        if next > i { next -= 1 }
        if next >= consumers.count { next = 0 }
    }
}

/// A topic: every message to each current subscriber.
final class Topic {
    let destination: String
    var subscribers: [Subscription] = []
    init(destination: String) { self.destination = destination }
    func remove(_ sub: Subscription) { subscribers.removeAll { $0 === sub } }
}
