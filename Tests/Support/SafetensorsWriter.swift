// Builds safetensors files for tests (F32 tensors, header in data order).
import Foundation

public enum SafetensorsWriter {
    /// Writes `tensors` (name, PyTorch shape, values) as one F32 safetensors file at `path`.
    public static func write(_ tensors: [(String, [Int], [Float])], to path: String) throws {
        var entries: [String] = []
        var data: [UInt8] = []
        for (name, shape, values) in tensors {
            let begin = data.count
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 } }
            entries.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(data.count)]}")
        }
        let header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out += $0 }
        try Data(out + header + data).write(to: URL(fileURLWithPath: path))
    }
}
