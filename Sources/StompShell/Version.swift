/// The one place the version lives (`stompsh --version`).
public enum StompshVersion {
    public static let string = "0.1.0"
}
