// `--log-format json`: one JSON object per log line (time, level, label, message, metadata).
import Foundation
import Logging

public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    static let lock = NSLock()

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        var fields: [(String, JSONValue)] = [
            ("time", .string(Timestamp.format(Date()))), ("level", .string(level.rawValue)),
            ("label", .string(label)), ("source", .string(source)), ("message", .string(message.description)),
        ]
        for (k, v) in metadata.merging(extra ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            fields.append((k, .string("\(v)")))
        }
        let text = JSONValue.object(fields).encoded + "\n"
        Self.lock.withLock { FileHandle.standardError.write(Data(text.utf8)) }
    }
}
